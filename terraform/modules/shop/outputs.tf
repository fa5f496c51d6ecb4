output "namespace" {
  description = "Kubernetes namespace of the shop."
  value       = kubernetes_namespace_v1.shop.metadata[0].name
}

output "gateway_service_name" {
  description = "Name of the Service in front of the api (gateway) Deployment."
  value       = kubernetes_service_v1.gateway.metadata[0].name
}

output "gateway_service_port" {
  description = "Port of the gateway Service (forwards to container port 3000)."
  value       = 80
}

output "gateway_internal_url" {
  description = "In-cluster URL of the gateway."
  value       = "http://${kubernetes_service_v1.gateway.metadata[0].name}.${kubernetes_namespace_v1.shop.metadata[0].name}.svc.cluster.local"
}

output "gateway_load_balancer_hostname" {
  description = "Hostname of the load balancer when gateway_service_type is LoadBalancer, else null."
  value       = try(kubernetes_service_v1.gateway.status[0].load_balancer[0].ingress[0].hostname, null)
}

output "deployments" {
  description = "Deployment name per node type."
  value       = { for node_type, deployment in kubernetes_deployment_v1.node : node_type => deployment.metadata[0].name }
}

output "config_map_name" {
  description = "ConfigMap holding the non-secret environment of every node."
  value       = kubernetes_config_map_v1.shop.metadata[0].name
}

output "secret_name" {
  description = "Secret holding JWT_SECRET, ADMIN_EMAIL, ADMIN_PASSWORD, CACHER and MONGO_URI."
  value       = kubernetes_secret_v1.shop.metadata[0].name
}

output "transporter" {
  description = "NATS URL the nodes use (TRANSPORTER)."
  value       = local.transporter
}
