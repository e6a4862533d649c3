output "plan_principal" {
  description = "Email of the service account pull-request workflows impersonate for terraform plan (google-github-actions/auth service_account)."
  value       = module.ci_oidc.plan_service_account_email
}

output "apply_principal" {
  description = "Email of the service account workflows of the protected GitHub environment impersonate for terraform apply."
  value       = module.ci_oidc.apply_service_account_email
}

output "workload_identity_provider" {
  description = "Full name of the GitHub workload identity provider (google-github-actions/auth workload_identity_provider)."
  value       = module.ci_oidc.workload_identity_provider
}

output "workload_identity_pool_name" {
  description = "Full name of the workload identity pool."
  value       = module.ci_oidc.workload_identity_pool_name
}
