################################################################################
# Cross-bucket replication (Storage Transfer Service): Cloud Storage notifies
# Pub/Sub of every new or updated object, and Storage Transfer Service copies it
# to the replica bucket, encrypted with the replica's own default key. Deletes
# are not replicated; objects that existed before the job are not copied.
################################################################################

data "google_storage_transfer_project_service_account" "this" {
  count = var.replication_enabled ? 1 : 0

  project = var.project_id
}

data "google_storage_project_service_account" "this" {
  count = var.replication_enabled ? 1 : 0

  project = var.project_id
}

locals {
  transfer_agent = var.replication_enabled ? "serviceAccount:${data.google_storage_transfer_project_service_account.this[0].email}" : null
  storage_agent  = var.replication_enabled ? "serviceAccount:${data.google_storage_project_service_account.this[0].email_address}" : null

  # The roles the console grants for a replication job: the Storage Transfer
  # Service agent reads the source (and manages its Pub/Sub notification) and
  # writes the destination; it also reads the destination to never overwrite.
  source_roles      = var.replication_enabled ? toset(["roles/storage.legacyBucketOwner", "roles/storage.objectViewer"]) : toset([])
  destination_roles = var.replication_enabled ? toset(["roles/storage.legacyBucketWriter", "roles/storage.objectViewer"]) : toset([])
}

resource "google_storage_bucket_iam_member" "transfer_source" {
  for_each = local.source_roles

  bucket = google_storage_bucket.this.name
  role   = each.value
  member = local.transfer_agent
}

resource "google_storage_bucket_iam_member" "transfer_destination" {
  for_each = local.destination_roles

  bucket = var.replica_bucket_name
  role   = each.value
  member = local.transfer_agent
}

# Storage Transfer Service creates the Pub/Sub topic and subscription of the
# event stream; Cloud Storage publishes the bucket's notifications to it.
resource "google_project_iam_member" "transfer_pubsub" {
  count = var.replication_enabled ? 1 : 0

  project = var.project_id
  role    = "roles/pubsub.editor"
  member  = local.transfer_agent
}

resource "google_project_iam_member" "storage_pubsub" {
  count = var.replication_enabled ? 1 : 0

  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = local.storage_agent
}

resource "google_storage_transfer_job" "replication" {
  count = var.replication_enabled ? 1 : 0

  # Replication jobs take no custom name: Storage Transfer Service names them.
  description = "Replicate ${google_storage_bucket.this.name} to ${var.replica_bucket_name}"
  project     = var.project_id
  status      = "ENABLED"

  replication_spec {
    gcs_data_source {
      bucket_name = google_storage_bucket.this.name
    }

    gcs_data_sink {
      bucket_name = var.replica_bucket_name
    }

    transfer_options {
      # The replica is locked too: never try to replace or delete an object.
      # (No delete options: a replication job refuses them.)
      overwrite_when = "NEVER"

      metadata_options {
        kms_key        = "KMS_KEY_DESTINATION_BUCKET_DEFAULT"
        temporary_hold = "TEMPORARY_HOLD_PRESERVE"
        time_created   = "TIME_CREATED_PRESERVE_AS_CUSTOM_TIME"
      }
    }
  }

  depends_on = [
    google_storage_bucket_iam_member.transfer_source,
    google_storage_bucket_iam_member.transfer_destination,
    google_project_iam_member.transfer_pubsub,
    google_project_iam_member.storage_pubsub,
  ]
}
