output "region" {
  description = "AWS region of the deployment."
  value       = var.region
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.vpc.vpc_id
}

output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Endpoint of the EKS API server."
  value       = module.eks.cluster_endpoint
}

output "kubeconfig_command" {
  description = "Command writing a kubeconfig entry for the cluster (for people; Terraform itself never runs it)."
  value       = "aws eks update-kubeconfig --name ${module.eks.cluster_name} --region ${var.region}"
}

output "shop_namespace" {
  description = "Kubernetes namespace of the shop."
  value       = module.shop.namespace
}

output "gateway_service_name" {
  description = "Name of the gateway Service."
  value       = module.shop.gateway_service_name
}

output "gateway_hostname" {
  description = "Public hostname of the gateway's Network Load Balancer (null unless gateway_service_type is LoadBalancer)."
  value       = module.shop.gateway_load_balancer_hostname
}

output "shop_deployments" {
  description = "Deployment name per node type."
  value       = module.shop.deployments
}
