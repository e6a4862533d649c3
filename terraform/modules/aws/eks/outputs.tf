output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = try(aws_eks_cluster.this.name, null)
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = try(aws_eks_cluster.this.arn, null)
}

output "cluster_version" {
  description = "Kubernetes minor version of the control plane."
  value       = try(aws_eks_cluster.this.version, null)
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server."
  value       = try(aws_eks_cluster.this.endpoint, null)
}

output "cluster_certificate_authority" {
  description = "Base64-encoded certificate of the cluster's CA (public data, for kubeconfig's certificate-authority-data)."
  value       = try(aws_eks_cluster.this.certificate_authority[0].data, null)
}

output "cluster_security_group_id" {
  description = "ID of the module's control plane security group (private API endpoint on 443 from the VPC)."
  value       = try(aws_security_group.cluster.id, null)
}

output "cluster_primary_security_group_id" {
  description = "ID of the cluster security group EKS creates and attaches to the control plane ENIs and the managed nodes; null where the API does not report it."
  value       = try(coalesce(aws_eks_cluster.this.vpc_config[0].cluster_security_group_id), null)
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider for IRSA (Federated principal of service-account roles)."
  value       = try(aws_iam_openid_connect_provider.this.arn, null)
}

output "oidc_issuer_url" {
  description = "Service account issuer URL of the cluster (https://...); without the scheme it is the prefix of the :sub and :aud condition keys."
  value       = try(aws_eks_cluster.this.identity[0].oidc[0].issuer, null)
}

output "node_role_arn" {
  description = "ARN of the IAM role of every managed node."
  value       = try(aws_iam_role.node.arn, null)
}

output "cluster_role_arn" {
  description = "ARN of the IAM role assumed by the EKS control plane."
  value       = try(aws_iam_role.cluster.arn, null)
}

output "node_group_names" {
  description = "Managed node group names by pool: \"system\" and one entry per tenant tier."
  value = try(tomap(merge(
    { system = aws_eks_node_group.system.node_group_name },
    { for tier, ng in aws_eks_node_group.tenant : tier => ng.node_group_name },
  )), {})
}

output "launch_template_ids" {
  description = "Launch template IDs by pool: \"system\" and one entry per tenant tier."
  value       = try({ for k, lt in aws_launch_template.node : k => lt.id }, {})
}

output "log_group_name" {
  description = "Name of the CloudWatch log group that receives the control plane logs."
  value       = try(aws_cloudwatch_log_group.cluster.name, null)
}
