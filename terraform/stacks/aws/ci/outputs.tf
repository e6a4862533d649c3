output "oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC identity provider."
  value       = module.ci_oidc.oidc_provider_arn
}

output "plan_principal" {
  description = "ARN of the role pull-request workflows assume for terraform plan (aws-actions/configure-aws-credentials role-to-assume)."
  value       = module.ci_oidc.plan_role_arn
}

output "apply_principal" {
  description = "ARN of the role workflows of the protected GitHub environment assume for terraform apply."
  value       = module.ci_oidc.apply_role_arn
}
