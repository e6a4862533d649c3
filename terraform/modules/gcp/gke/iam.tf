data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # The GKE service agent encrypts and decrypts the secrets' data keys.
  gke_service_agent = "serviceAccount:service-${data.google_project.this.number}@container-engine-robot.iam.gserviceaccount.com"

  # What a node needs for itself: write logs and metrics, read images. Pods use
  # their own identities (Workload Identity), never these.
  node_roles = toset([
    "roles/artifactregistry.reader",
    "roles/autoscaling.metricsWriter",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
  ])
}

# A dedicated node service account instead of the Compute Engine default one
# (which has Editor). No key is ever created for it.
resource "google_service_account" "node" {
  account_id   = "${var.name}-gke-nodes"
  display_name = "${var.name} GKE nodes"
  description  = "Identity of the nodes of GKE cluster ${var.name} (logs, metrics, image pulls). No keys."
}

resource "google_project_iam_member" "node" {
  for_each = local.node_roles

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.node.email}"
}

resource "google_kms_crypto_key_iam_member" "gke_secrets" {
  crypto_key_id = var.secrets_kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = local.gke_service_agent
}
