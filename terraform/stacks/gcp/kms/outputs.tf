output "state_key_id" {
  description = "Crypto key ID (projects/<project>/locations/<region>/keyRings/<env>/cryptoKeys/state) of the key for Terraform remote state (state bucket default encryption)."
  value       = module.kms.key_ids["state"]
}

output "database_key_id" {
  description = "Crypto key ID of the key for Cloud SQL storage and backups."
  value       = module.kms.key_ids["database"]
}

output "cluster_key_id" {
  description = "Crypto key ID of the key for GKE application-layer encryption of Kubernetes secrets."
  value       = module.kms.key_ids["cluster"]
}

output "logs_key_id" {
  description = "Crypto key ID of the key for the Cloud Logging log buckets (VPC flow logs, GKE control-plane logs)."
  value       = module.kms.key_ids["logs"]
}

output "registry_key_id" {
  description = "Crypto key ID of the key for the Artifact Registry container images (registry stack)."
  value       = module.kms.key_ids["registry"]
}

output "key_ids" {
  description = "Crypto key ID of every key, by purpose (state, database, cluster, logs, registry)."
  value       = module.kms.key_ids
}

output "key_ring_id" {
  description = "ID of the key ring (projects/<project>/locations/<region>/keyRings/<environment>)."
  value       = module.kms.key_ring_id
}
