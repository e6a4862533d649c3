output "plan_principal" {
  description = "Client ID of the identity pull-request workflows use for terraform plan (azure/login client-id)."
  value       = module.ci_oidc.plan_client_id
}

output "apply_principal" {
  description = "Client ID of the identity workflows of the protected GitHub environment use for terraform apply."
  value       = module.ci_oidc.apply_client_id
}

output "tenant_id" {
  description = "Entra tenant of the identities (azure/login tenant-id)."
  value       = module.ci_oidc.tenant_id
}

output "plan_principal_id" {
  description = "Principal (object) ID of the plan identity."
  value       = module.ci_oidc.plan_principal_id
}

output "apply_principal_id" {
  description = "Principal (object) ID of the apply identity."
  value       = module.ci_oidc.apply_principal_id
}

output "resource_group_name" {
  description = "Resource group of the identities (<environment>-ci)."
  value       = azurerm_resource_group.this.name
}
