# ---------------------------------------------------------------------------------------------------------------------
# AWS and the cluster
# ---------------------------------------------------------------------------------------------------------------------

variable "region" {
  description = "AWS region of the VPC and the EKS cluster."
  type        = string
  default     = "eu-central-1"
}

variable "environment" {
  description = "Environment name, used in tags (e.g. staging, production)."
  type        = string
  default     = "production"
}

variable "cluster_name" {
  description = "Name of the EKS cluster (also the VPC name)."
  type        = string
  default     = "moleculer-shop"
}

variable "kubernetes_version" {
  description = "Kubernetes version of the EKS control plane."
  type        = string
  default     = "1.31"
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; private subnets get /20s, public subnets /24s."
  type        = string
  default     = "10.0.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper) instead of one per zone (zone-redundant)."
  type        = bool
  default     = false
}

variable "cluster_endpoint_public_access" {
  description = "Whether the EKS API endpoint is reachable from the internet (needed to run Terraform from outside the VPC)."
  type        = bool
  default     = true
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public EKS API endpoint."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_capacity_type" {
  description = "ON_DEMAND or SPOT."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.node_capacity_type)
    error_message = "node_capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "node_min_size" {
  description = "Minimum size of the managed node group."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Maximum size of the managed node group."
  type        = number
  default     = 6
}

variable "node_desired_size" {
  description = "Desired size of the managed node group."
  type        = number
  default     = 3
}

variable "tags" {
  description = "Extra tags on every AWS resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------------------------
# The shop (passed to ../../modules/shop)
# ---------------------------------------------------------------------------------------------------------------------

variable "shop_namespace" {
  description = "Kubernetes namespace of the shop."
  type        = string
  default     = "moleculer-shop"
}

variable "image" {
  description = "The moleculer-shop image with an immutable tag or digest (e.g. <account>.dkr.ecr.<region>.amazonaws.com/moleculer-shop:1.4.2)."
  type        = string
}

variable "replicas" {
  description = "Replicas per node type; null keeps the module's defaults (every node type of services/)."
  type        = map(number)
  default     = null
}

variable "jwt_secret" {
  description = "JWT_SECRET of the shop, at least 32 characters."
  type        = string
  sensitive   = true
}

variable "admin_email" {
  description = "ADMIN_EMAIL of the shop."
  type        = string
}

variable "admin_password" {
  description = "ADMIN_PASSWORD of the shop, at least 12 characters."
  type        = string
  sensitive   = true
}

variable "log_level" {
  description = "Moleculer log level of the shop nodes."
  type        = string
  default     = "info"
}

variable "trusted_proxies" {
  description = "TRUSTED_PROXIES of the gateway (proxy-addr syntax)."
  type        = list(string)
  default     = []
}

variable "gateway_service_type" {
  description = "Type of the gateway Service; LoadBalancer gets an AWS Network Load Balancer."
  type        = string
  default     = "LoadBalancer"
}
