output "repository_urls" {
  description = "Where to push and pull each image (<registry>.azurecr.io/<environment>/<image>), by image name."
  value       = module.registry.repository_urls
}

output "registry_id" {
  description = "Resource ID of the container registry."
  value       = module.registry.registry_id
}

output "login_server" {
  description = "Login server of the registry (<registry>.azurecr.io)."
  value       = module.registry.login_server
}

output "resource_group_name" {
  description = "Resource group of the registry (<environment>-registry)."
  value       = azurerm_resource_group.this.name
}
