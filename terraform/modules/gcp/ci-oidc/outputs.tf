output "workload_identity_provider" {
  description = "Full name of the workload identity provider (projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/github): google-github-actions/auth's workload_identity_provider."
  value       = try(google_iam_workload_identity_pool_provider.github.name, null)
}

output "workload_identity_pool_name" {
  description = "Full name of the workload identity pool."
  value       = try(google_iam_workload_identity_pool.github.name, null)
}

output "plan_service_account_email" {
  description = "Service account pull-request workflows impersonate for terraform plan (google-github-actions/auth's service_account)."
  value       = try(google_service_account.plan.email, null)
}

output "apply_service_account_email" {
  description = "Service account the protected GitHub environment's workflows impersonate for terraform apply."
  value       = try(google_service_account.apply.email, null)
}
