locals {
  # Bucket names are global: the project ID (itself globally unique) and the
  # environment make them unique.
  bucket_name         = "${var.project_id}-${var.environment}-evidence"
  replica_bucket_name = "${var.project_id}-${var.environment}-evidence-dr"

  # The longest window Cloud KMS allows: losing an evidence key loses the
  # evidence.
  kms_deletion_window_days = 120

  locked = var.object_lock_mode == "COMPLIANCE"
}

resource "google_project_service" "this" {
  for_each = toset([
    "cloudkms.googleapis.com",
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "storage.googleapis.com",
    "storagetransfer.googleapis.com",
  ])

  service = each.value

  # Other stacks use the same APIs: destroying this stack never turns them off.
  disable_on_destroy = false
}

# The service agents that encrypt with this stack's keys: Cloud Storage for
# both buckets, Cloud Logging for the access log bucket.
data "google_storage_project_service_account" "this" {
  project = var.project_id

  depends_on = [google_project_service.this]
}

data "google_logging_project_cmek_settings" "this" {
  project = var.project_id

  depends_on = [google_project_service.this]
}

################################################################################
# Keys: one key ring per region (a key only protects resources of its region)
################################################################################

module "kms" {
  source = "../../../modules/gcp/kms"

  name                 = "${var.environment}-evidence"
  location             = var.region
  deletion_window_days = local.kms_deletion_window_days

  keys = {
    evidence = {
      description = "${var.environment}: WORM audit evidence bucket (default encryption)"
      encrypter_decrypters = {
        cloud-storage = "serviceAccount:${data.google_storage_project_service_account.this.email_address}"
      }
    }

    access-logs = {
      description = "${var.environment}: log bucket of the evidence buckets' access (audit) logs"
      encrypter_decrypters = {
        cloud-logging = "serviceAccount:${data.google_logging_project_cmek_settings.this.service_account_id}"
      }
    }
  }

  labels = { stack = "evidence" }

  depends_on = [google_project_service.this]
}

module "kms_dr" {
  source = "../../../modules/gcp/kms"

  name                 = "${var.environment}-evidence"
  location             = var.dr_region
  deletion_window_days = local.kms_deletion_window_days

  keys = {
    evidence-replica = {
      description = "${var.environment}: replica of the WORM audit evidence bucket in ${var.dr_region} (default encryption)"
      encrypter_decrypters = {
        cloud-storage = "serviceAccount:${data.google_storage_project_service_account.this.email_address}"
      }
    }
  }

  labels = { stack = "evidence" }

  depends_on = [google_project_service.this]
}

################################################################################
# Buckets: the locked replica in the DR region, then the locked primary that
# replicates every new object to it
################################################################################

module "evidence_replica" {
  source = "../../../modules/gcp/evidence"

  name             = local.replica_bucket_name
  project_id       = var.project_id
  location         = var.dr_region
  kms_key_id       = module.kms_dr.key_ids["evidence-replica"]
  retention_days   = var.retention_days
  object_lock_mode = var.object_lock_mode

  labels = { stack = "evidence", role = "replica" }

  # The Cloud Storage agent must hold the key before the bucket uses it.
  depends_on = [module.kms_dr]
}

module "evidence" {
  source = "../../../modules/gcp/evidence"

  name             = local.bucket_name
  project_id       = var.project_id
  location         = var.region
  kms_key_id       = module.kms.key_ids["evidence"]
  retention_days   = var.retention_days
  object_lock_mode = var.object_lock_mode

  replication_enabled = true
  replica_bucket_name = module.evidence_replica.bucket_name

  # Environment, service, owner and cost-center come from default_labels.
  labels = { stack = "evidence", role = "primary" }

  depends_on = [module.kms, google_project_service.this]
}

################################################################################
# Access logging: Cloud Audit Data Access logs of Cloud Storage (every read and
# write with the caller's identity), the evidence buckets' entries kept in a
# log bucket locked like the evidence
################################################################################

module "access_logs" {
  source = "../../../modules/gcp/storage-access-logs"

  project_id     = var.project_id
  name           = "${var.environment}-evidence-access-logs"
  location       = var.region
  bucket_names   = [local.bucket_name, local.replica_bucket_name]
  retention_days = min(var.retention_days, 3650)
  locked         = local.locked
  kms_key_id     = module.kms.key_ids["access-logs"]

  depends_on = [module.kms]
}
