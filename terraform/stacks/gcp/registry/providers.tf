locals {
  # GCP labels: keys and values of at most 63 lowercase letters, digits, "_"
  # and "-". The keys are validated as such (common_variables.tf); the values
  # are converted here: lowercased, every other character replaced by "-",
  # cut at 63 (e.g. "Platform Team" -> "platform-team").
  labels = { for k, v in var.tags : k => substr(replace(lower(v), "/[^a-z0-9_-]/", "-"), 0, 63) }
}

# default_labels puts the environment's labels on every resource that has a
# top-level labels field (the repository).
provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}

# Only for google_project_service_identity (the Artifact Registry service agent).
provider "google-beta" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}
