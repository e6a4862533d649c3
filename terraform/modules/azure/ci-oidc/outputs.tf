output "plan_client_id" {
  description = "Client ID of the plan identity (azure/login client-id for pull-request workflows)."
  value       = try(azurerm_user_assigned_identity.plan.client_id, null)
}

output "apply_client_id" {
  description = "Client ID of the apply identity (azure/login client-id for jobs of the protected environment)."
  value       = try(azurerm_user_assigned_identity.apply.client_id, null)
}

output "plan_principal_id" {
  description = "Principal (object) ID of the plan identity."
  value       = try(azurerm_user_assigned_identity.plan.principal_id, null)
}

output "apply_principal_id" {
  description = "Principal (object) ID of the apply identity."
  value       = try(azurerm_user_assigned_identity.apply.principal_id, null)
}

output "tenant_id" {
  description = "Entra tenant of the identities (azure/login tenant-id)."
  value       = try(azurerm_user_assigned_identity.plan.tenant_id, null)
}

output "subjects" {
  description = "Federated credential subjects, by identity (plan, apply)."
  value = {
    plan  = try(azurerm_federated_identity_credential.plan.subject, null)
    apply = try(azurerm_federated_identity_credential.apply.subject, null)
  }
}
