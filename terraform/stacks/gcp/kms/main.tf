resource "google_project_service" "this" {
  for_each = toset(["cloudkms.googleapis.com", "logging.googleapis.com", "storage.googleapis.com"])

  service = each.value

  # Other stacks use the same APIs: destroying this stack never turns them off.
  disable_on_destroy = false
}

# Google-managed service agents that use a key of this stack for every
# consumer at once, granted here so that no consuming stack's destroy can
# revoke another's access: Cloud Storage for the remote-state bucket (state
# key), Cloud Logging for the log buckets of the network and cluster stacks
# (logs key). Agents of a single consumer are granted by that stack (Cloud SQL:
# data, GKE: cluster).
data "google_storage_project_service_account" "this" {
  project = var.project_id

  depends_on = [google_project_service.this]
}

data "google_logging_project_cmek_settings" "this" {
  project = var.project_id

  depends_on = [google_project_service.this]
}

# One key ring in the region, one crypto key per purpose: a key only protects
# resources of its own region.
module "kms" {
  source = "../../../modules/gcp/kms"

  name                 = var.environment
  location             = var.region
  deletion_window_days = var.deletion_window_days

  keys = {
    # Terraform remote state: the state bucket's default encryption key.
    state = {
      description = "${var.environment}: Terraform remote state (state bucket default encryption)"
      encrypter_decrypters = {
        cloud-storage = "serviceAccount:${data.google_storage_project_service_account.this.email_address}"
      }
    }

    # Cloud SQL storage and backups; the data stack grants the Cloud SQL
    # service agent.
    database = {
      description = "${var.environment}: Cloud SQL storage and backups"
    }

    # GKE application-layer secrets encryption; the cluster stack grants the
    # GKE service agent.
    cluster = {
      description = "${var.environment}: GKE application-layer encryption of Kubernetes secrets"
    }

    # Cloud Logging log buckets (VPC flow logs, GKE control-plane logs).
    logs = {
      description = "${var.environment}: Cloud Logging log buckets (VPC flow logs, GKE control-plane logs)"
      encrypter_decrypters = {
        cloud-logging = "serviceAccount:${data.google_logging_project_cmek_settings.this.service_account_id}"
      }
    }

    # Artifact Registry images (registry stack); the registry stack grants the
    # Artifact Registry service agent.
    registry = {
      description = "${var.environment}: Artifact Registry container images (registry stack)"
    }
  }

  # Environment, service, owner and cost-center come from default_labels.
  labels = { stack = "kms" }

  depends_on = [google_project_service.this]
}
