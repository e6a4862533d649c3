resource "google_project_service" "this" {
  for_each = toset(["iam.googleapis.com", "iamcredentials.googleapis.com", "sts.googleapis.com"])

  service = each.value

  # Other stacks use the same APIs: destroying this stack never turns them off.
  disable_on_destroy = false
}

# GitHub Actions reaches this project only through Workload Identity
# Federation: no service account keys. Pull requests get the read-only plan
# service account; jobs of the GitHub environment named like this environment
# (protected by required reviewers) get the apply service account.
module "ci_oidc" {
  source = "../../../modules/gcp/ci-oidc"

  name               = var.environment
  project_id         = var.project_id
  github_repository  = var.github_repository
  github_environment = var.environment

  # infractl's state layout: "<env>/<stack>/" prefixes (+ ".tflock" files).
  state_bucket = var.state_bucket
  state_prefix = "${var.environment}/"

  depends_on = [google_project_service.this]
}
