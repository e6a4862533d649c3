################################################################################
# CMEK: the Artifact Registry service agent encrypts the repository with the
# key, so it must hold the key before the repository is created.
################################################################################

resource "google_project_service_identity" "artifactregistry" {
  provider = google-beta

  project = var.project_id
  service = "artifactregistry.googleapis.com"
}

resource "google_kms_crypto_key_iam_member" "artifactregistry" {
  crypto_key_id = var.kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_project_service_identity.artifactregistry.email}"
}

################################################################################
# The repository
################################################################################

resource "google_artifact_registry_repository" "this" {
  project       = var.project_id
  location      = var.location
  repository_id = var.repository_id
  description   = "Container images of ${var.repository_id}: ${join(", ", var.repositories)}"
  format        = "DOCKER"
  mode          = "STANDARD_REPOSITORY"

  kms_key_name = var.kms_key_id

  # A tag, once pushed, always names the same digest.
  docker_config {
    immutable_tags = true
  }

  # Cleanup policies run for real (not a dry run). KEEP wins over DELETE.
  cleanup_policy_dry_run = false

  cleanup_policies {
    id     = "delete-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "${var.untagged_expiry_days * 86400}s"
    }
  }

  cleanup_policies {
    id     = "delete-old-releases"
    action = "DELETE"
    condition {
      tag_state    = "TAGGED"
      tag_prefixes = var.release_tag_prefixes
    }
  }

  cleanup_policies {
    id     = "keep-newest-releases"
    action = "KEEP"
    most_recent_versions {
      package_name_prefixes = var.repositories
      keep_count            = var.keep_releases
    }
  }

  labels = var.labels

  depends_on = [google_kms_crypto_key_iam_member.artifactregistry]
}

################################################################################
# The next stage pulls, nothing else
################################################################################

resource "google_artifact_registry_repository_iam_member" "reader" {
  for_each = toset(var.reader_members)

  project    = var.project_id
  location   = google_artifact_registry_repository.this.location
  repository = google_artifact_registry_repository.this.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}
