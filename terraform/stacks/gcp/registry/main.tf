resource "google_project_service" "this" {
  # Artifact Registry, and Artifact Analysis container scanning, which scans
  # every image pushed to the project's Docker repositories.
  for_each = toset(["artifactregistry.googleapis.com", "containerscanning.googleapis.com"])

  service = each.value

  # Other stacks or projects' workloads may use them: destroying this stack
  # never turns them off.
  disable_on_destroy = false
}

# One Docker repository per environment, named after it: images are
# <region>-docker.pkg.dev/<project>/<environment>/<image>. Releases are copied
# in by digest (infractl promote), never rebuilt.
module "registry" {
  source = "../../../modules/gcp/artifact-registry"

  project_id    = var.project_id
  location      = var.region
  repository_id = var.environment
  repositories  = var.repositories
  kms_key_id    = var.registry_key_id

  untagged_expiry_days = var.untagged_expiry_days
  keep_releases        = var.keep_releases
  release_tag_prefixes = var.release_tag_prefixes
  reader_members       = var.reader_members

  # Environment, service, owner and cost-center come from default_labels.
  labels = { stack = "registry" }

  depends_on = [google_project_service.this]
}
