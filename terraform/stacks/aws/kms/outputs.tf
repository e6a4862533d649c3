output "state_key_id" {
  description = "ARN (the identifier AWS services take) of the key for Terraform remote state (state bucket default encryption)."
  value       = module.kms.key_arns["state"]
}

output "database_key_id" {
  description = "ARN of the key for RDS storage, the RDS-managed master password secret and the tenant backup bucket (S3 SSE-KMS)."
  value       = module.kms.key_arns["database"]
}

output "cluster_key_id" {
  description = "ARN of the key for EKS envelope encryption of Kubernetes secrets."
  value       = module.kms.key_arns["cluster"]
}

output "logs_key_id" {
  description = "ARN of the key for CloudWatch Logs log groups of this account and region (VPC flow logs, EKS control-plane logs)."
  value       = module.kms.key_arns["logs"]
}

output "registry_key_id" {
  description = "ARN of the key for ECR container images (registry stack)."
  value       = module.kms.key_arns["registry"]
}

output "key_ids" {
  description = "ARN of every key, by purpose (state, database, cluster, logs, registry)."
  value       = module.kms.key_arns
}

output "alias_names" {
  description = "Alias of every key (alias/<environment>-<purpose>), by purpose."
  value       = module.kms.alias_names
}
