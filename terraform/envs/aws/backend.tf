# Remote state in S3, locked through DynamoDB and encrypted at rest. Backends cannot read variables: the values below
# are the defaults of the state bootstrap described in ../../README.md; override them per account with
#   terraform init -backend-config="bucket=<bucket>" -backend-config="region=<region>" -backend-config="dynamodb_table=<table>"
terraform {
  backend "s3" {
    bucket         = "moleculer-shop-terraform-state"
    key            = "envs/aws/terraform.tfstate"
    region         = "eu-central-1"
    dynamodb_table = "moleculer-shop-terraform-locks"
    encrypt        = true
  }
}
