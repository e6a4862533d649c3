output "key_vault_id" {
  description = "Resource ID of the vault (scope of role assignments on the vault or, with \"/keys/<name>\" appended, on one key)."
  value       = try(azurerm_key_vault.this.id, null)
}

output "key_vault_name" {
  description = "Name of the vault."
  value       = try(azurerm_key_vault.this.name, null)
}

output "key_vault_uri" {
  description = "Data-plane URI of the vault (https://<name>.vault.azure.net/)."
  value       = try(azurerm_key_vault.this.vault_uri, null)
}

output "key_ids" {
  description = "Versionless key ID (https://<vault>.vault.azure.net/keys/<name>) of each key, by key name: what services that follow rotation take (Storage, PostgreSQL)."
  value       = try({ for k, key in azurerm_key_vault_key.this : k => key.versionless_id }, {})
}

output "versioned_key_ids" {
  description = "Key ID of the current version of each key, by key name: for services that need a version (AKS KMS). Changes when the key rotates and Terraform refreshes it."
  value       = try({ for k, key in azurerm_key_vault_key.this : k => key.id }, {})
}

output "key_resource_ids" {
  description = "Versionless Azure Resource Manager ID of each key, by key name: the scope for role assignments on that key."
  value       = try({ for k, key in azurerm_key_vault_key.this : k => key.resource_versionless_id }, {})
}
