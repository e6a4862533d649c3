output "oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC identity provider (token.actions.githubusercontent.com)."
  value       = try(aws_iam_openid_connect_provider.github.arn, null)
}

output "plan_role_arn" {
  description = "ARN of the plan role (read-only, state lock files); assumable only from pull requests of github_repository."
  value       = try(aws_iam_role.plan.arn, null)
}

output "apply_role_arn" {
  description = "ARN of the apply role (administrator minus the evidence guard); assumable only from the github_environment environment of github_repository."
  value       = try(aws_iam_role.apply.arn, null)
}
