output "registry_id" {
  description = "Resource ID of the container registry."
  value       = try(azurerm_container_registry.this.id, null)
}

output "login_server" {
  description = "Login server of the registry (<name>.azurecr.io)."
  value       = try(azurerm_container_registry.this.login_server, null)
}

output "repository_urls" {
  description = "Where to push and pull each image (<name>.azurecr.io/<namespace>/<image>), by image name."
  value       = { for image in var.repositories : image => "${azurerm_container_registry.this.login_server}/${var.namespace}/${image}" }
}

output "identity_principal_id" {
  description = "Principal ID of the registry's user-assigned identity (holds the registry key)."
  value       = try(azurerm_user_assigned_identity.this.principal_id, null)
}
