################################################################################
# Workload Identity Federation: GitHub's OIDC tokens, of this repository only,
# are exchanged for short-lived Google credentials. No key exists anywhere.
################################################################################

# A deleted pool stays (soft-deleted) for 30 days and keeps its ID meanwhile.
resource "google_iam_workload_identity_pool" "github" {
  workload_identity_pool_id = "${var.name}-github"
  display_name              = "${var.name} GitHub Actions"
  description               = "GitHub Actions of ${var.github_repository} (environment ${var.github_environment})."
  disabled                  = false
}

resource "google_iam_workload_identity_pool_provider" "github" {
  #checkov:skip=CKV_GCP_125:the condition does pin assertion.sub to repo:<owner>/<repo>:pull_request and repo:<owner>/<repo>:environment:<env> (and assertion.repository to the repository); checkov cannot resolve var.github_repository, which has no default, into its owner/repo form; the module validates that form
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "github"
  display_name                       = "GitHub Actions OIDC"
  description                        = "token.actions.githubusercontent.com, repository ${var.github_repository} only."
  disabled                           = false

  attribute_mapping = {
    "google.subject"       = "assertion.sub"
    "attribute.sub"        = "assertion.sub"
    "attribute.repository" = "assertion.repository"
    "attribute.actor"      = "assertion.actor"
  }

  # Only the two subjects the service accounts admit can exchange a token at
  # all: pull requests and the protected environment of this repository.
  attribute_condition = "assertion.repository == \"${var.github_repository}\" && (assertion.sub == \"repo:${var.github_repository}:pull_request\" || assertion.sub == \"repo:${var.github_repository}:environment:${var.github_environment}\")"

  # Audience: the provider's own resource name (the default), as
  # google-github-actions/auth requests it.
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

################################################################################
# Plan: pull requests of the repository, read-only
################################################################################

resource "google_service_account" "plan" {
  account_id   = "${var.name}-gh-plan"
  display_name = "${var.name} GitHub plan"
  description  = "terraform plan from pull requests of ${var.github_repository}: read-only, state read and lock files only. No keys."
}

# Every token whose subject (GitHub's sub claim, mapped to attribute.sub) is
# repo:<repo>:pull_request: workflows run for pull requests.
resource "google_service_account_iam_member" "plan_pull_requests" {
  service_account_id = google_service_account.plan.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.sub/repo:${var.github_repository}:pull_request"
}

resource "google_project_iam_member" "plan" {
  #checkov:skip=CKV_GCP_117:terraform plan refreshes every resource type of the stacks; roles/viewer is the one read-only role that covers them all (it reads no object data); only pull requests of the repository can impersonate the plan identity
  for_each = toset(var.plan_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.plan.email}"
}

# The state: read the environment's objects, create and delete only its lock
# files (the gcs backend's <prefix>/<workspace>.tflock).
resource "google_storage_bucket_iam_member" "plan_state_read" {
  bucket = var.state_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.plan.email}"

  condition {
    title       = "${var.name}-state"
    description = "Objects under ${var.state_prefix} (and listing the bucket)."
    expression  = "resource.type == \"storage.googleapis.com/Bucket\" || resource.name.startsWith(\"projects/_/buckets/${var.state_bucket}/objects/${var.state_prefix}\")"
  }
}

resource "google_storage_bucket_iam_member" "plan_state_lock" {
  bucket = var.state_bucket
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.plan.email}"

  condition {
    title       = "${var.name}-state-locks"
    description = "Lock files under ${var.state_prefix} only."
    expression  = "resource.name.startsWith(\"projects/_/buckets/${var.state_bucket}/objects/${var.state_prefix}\") && resource.name.endsWith(\".tflock\")"
  }
}

################################################################################
# Apply: jobs of the protected GitHub environment only
################################################################################

resource "google_service_account" "apply" {
  account_id   = "${var.name}-gh-apply"
  display_name = "${var.name} GitHub apply"
  description  = "terraform apply from the GitHub environment ${var.github_environment} of ${var.github_repository}. No keys."
}

# Exactly one subject: repo:<repo>:environment:<environment>, the jobs of the
# protected GitHub environment.
resource "google_service_account_iam_member" "apply_environment" {
  service_account_id = google_service_account.apply.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principal://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/subject/repo:${var.github_repository}:environment:${var.github_environment}"
}

resource "google_project_iam_member" "apply" {
  #checkov:skip=CKV_GCP_41:the apply identity deploys every stack, which attaches service accounts it creates (GKE nodes, database owners) to resources: iam.serviceAccountUser at project level; only the protected GitHub environment can impersonate it
  #checkov:skip=CKV_GCP_42:the apply identity is Terraform's deployer and administers what the stacks create (predefined admin roles per service, no basic roles); only jobs of the protected GitHub environment can impersonate it
  #checkov:skip=CKV_GCP_49:the apply identity creates and manages the stacks' service accounts (iam.serviceAccountAdmin); only jobs of the protected GitHub environment can impersonate it
  for_each = toset(var.apply_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.apply.email}"
}
