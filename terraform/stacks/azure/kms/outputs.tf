output "state_key_id" {
  description = "Versionless Key Vault key ID of the key for Terraform remote state (the state storage account's customer-managed key)."
  value       = module.key_vault.key_ids["state"]
}

output "database_key_id" {
  description = "Versionless Key Vault key ID of the key for PostgreSQL data, WAL and backups."
  value       = module.key_vault.key_ids["database"]
}

output "cluster_key_id" {
  description = "Versionless Key Vault key ID of the key for AKS KMS encryption of Kubernetes secrets (AKS takes cluster_key_version_id)."
  value       = module.key_vault.key_ids["cluster"]
}

output "logs_key_id" {
  description = "Versionless Key Vault key ID of the key for log stores (the VNet flow log storage account)."
  value       = module.key_vault.key_ids["logs"]
}

output "registry_key_id" {
  description = "Versionless Key Vault key ID of the key for the container registry's images (registry stack)."
  value       = module.key_vault.key_ids["registry"]
}

output "key_ids" {
  description = "Versionless Key Vault key ID of every key, by purpose (state, database, cluster, logs, registry)."
  value       = module.key_vault.key_ids
}

output "cluster_key_version_id" {
  description = "Versioned key ID of the current version of the cluster key: AKS KMS pins a version. It changes after an automatic rotation once this stack is applied again."
  value       = module.key_vault.versioned_key_ids["cluster"]
}

output "key_vault_id" {
  description = "Resource ID of the Key Vault (role assignment scope: <key_vault_id>/keys/<purpose> for one key)."
  value       = module.key_vault.key_vault_id
}

output "key_vault_uri" {
  description = "Data-plane URI of the Key Vault."
  value       = module.key_vault.key_vault_uri
}

output "resource_group_name" {
  description = "Resource group of the vault (<environment>-kms)."
  value       = azurerm_resource_group.this.name
}
