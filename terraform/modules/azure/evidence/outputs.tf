output "storage_account_id" {
  description = "Resource ID of the storage account."
  value       = try(azurerm_storage_account.this.id, null)
}

output "storage_account_name" {
  description = "Name of the storage account."
  value       = try(azurerm_storage_account.this.name, null)
}

output "blob_endpoint" {
  description = "Blob service endpoint of the account (https://<account>.blob.core.windows.net/)."
  value       = try(azurerm_storage_account.this.primary_blob_endpoint, null)
}

output "container_name" {
  description = "Name of the WORM evidence container."
  value       = try(azurerm_storage_container.this.name, null)
}

output "container_id" {
  description = "Resource Manager ID of the container (scope of data role assignments)."
  value       = try(azurerm_storage_container.this.id, null)
}

output "identity_principal_id" {
  description = "Principal ID of the account's user-assigned identity (the one reading the customer-managed key)."
  value       = try(azurerm_user_assigned_identity.this.principal_id, null)
}
