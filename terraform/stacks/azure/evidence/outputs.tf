output "bucket_name" {
  description = "Name of the WORM evidence container (primary region); its account is storage_account_name."
  value       = module.evidence.container_name
}

output "replica_bucket_name" {
  description = "Name of the locked replica container in the DR region; its account is replica_storage_account_name."
  value       = module.evidence_replica.container_name
}

output "key_id" {
  description = "Versionless Key Vault key ID of the customer-managed key encrypting the primary account."
  value       = module.key_vault.key_ids["evidence"]
}

output "replica_key_id" {
  description = "Versionless Key Vault key ID (DR region) of the customer-managed key encrypting the replica account."
  value       = module.key_vault_replica.key_ids["evidence-replica"]
}

output "storage_account_name" {
  description = "Name of the primary evidence storage account."
  value       = module.evidence.storage_account_name
}

output "blob_endpoint" {
  description = "Blob endpoint of the primary evidence account."
  value       = module.evidence.blob_endpoint
}

output "container_id" {
  description = "Resource Manager ID of the primary evidence container (scope of the publishers' Storage Blob Data Contributor role)."
  value       = module.evidence.container_id
}

output "replica_storage_account_name" {
  description = "Name of the replica storage account in the DR region."
  value       = module.evidence_replica.storage_account_name
}

output "replica_container_id" {
  description = "Resource Manager ID of the replica container."
  value       = module.evidence_replica.container_id
}

output "object_replication_id" {
  description = "ID of the object replication policy from the primary to the replica account."
  value       = azurerm_storage_object_replication.this.id
}

output "resource_group_names" {
  description = "Resource groups of the stack, by role (primary: <environment>-evidence, replica: <environment>-evidence-dr)."
  value = {
    primary = azurerm_resource_group.primary.name
    replica = azurerm_resource_group.replica.name
  }
}
