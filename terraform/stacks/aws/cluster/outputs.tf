output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = module.eks.cluster_arn
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority" {
  description = "Base64-encoded CA certificate of the cluster (public), for kubeconfig."
  value       = module.eks.cluster_certificate_authority
}

output "cluster_security_group_id" {
  description = "ID of the control plane security group created by the stack (private API endpoint on 443 from the VPC)."
  value       = module.eks.cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider for IRSA."
  value       = module.eks.oidc_provider_arn
}

output "oidc_issuer_url" {
  description = "Service account issuer URL of the cluster (https://...)."
  value       = module.eks.oidc_issuer_url
}

output "node_role_arn" {
  description = "ARN of the IAM role of every managed node."
  value       = module.eks.node_role_arn
}

output "node_pool_names" {
  description = "Managed node group names by pool: \"system\" and one entry per tenant tier."
  value       = module.eks.node_group_names
}
