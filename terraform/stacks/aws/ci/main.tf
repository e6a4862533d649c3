# GitHub Actions reaches this account only through OIDC: no IAM users, no
# access keys. Pull requests get the read-only plan role; jobs of the GitHub
# environment named like this environment (protected by required reviewers)
# get the apply role.
module "ci_oidc" {
  source = "../../../modules/aws/ci-oidc"

  name               = var.environment
  github_repository  = var.github_repository
  github_environment = var.environment

  # infractl's state layout: "<env>/<stack>.tfstate" (+ ".tflock").
  state_bucket      = var.state_bucket
  state_key_prefix  = "${var.environment}/"
  state_kms_key_arn = var.state_kms_key_arn

  evidence_bucket_arn  = var.evidence_bucket_arn
  evidence_kms_key_arn = var.evidence_kms_key_arn

  # Environment, service, owner and cost-center come from default_tags.
  tags = { stack = "ci" }
}
