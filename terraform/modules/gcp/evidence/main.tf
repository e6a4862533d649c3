# A write-once (WORM) bucket: a bucket retention policy (Bucket Lock) keeps
# every object from being deleted or replaced before it is retention_days old;
# locked (COMPLIANCE), nobody can remove or shorten the policy.
resource "google_storage_bucket" "this" {
  #checkov:skip=CKV_GCP_78:Object Versioning cannot be enabled on a bucket with a retention policy (Cloud Storage refuses the combination); the locked retention policy keeps every object from being replaced or deleted, so no earlier version can be lost
  #checkov:skip=CKV_GCP_62:access is recorded by Cloud Audit Data Access logs with the caller identity (the evidence stack turns them on and keeps these buckets entries in a log bucket through gcp/storage-access-logs); usage logs (the logging block) carry no caller identity
  name          = var.name
  location      = var.location
  storage_class = "STANDARD"

  # IAM only (no ACLs), never public.
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # A bucket holding objects under retention cannot be deleted anyway; never
  # let Terraform empty it.
  force_destroy = false

  retention_policy {
    retention_period = var.retention_days * 86400
    is_locked        = var.object_lock_mode == "COMPLIANCE"
  }

  # Per-object holds (temporary or event-based) keep an object beyond its
  # retention; with default_event_based_hold every new object starts held.
  default_event_based_hold = var.default_event_based_hold

  # Cloud Storage refuses Object Versioning on a bucket with a retention
  # policy: the policy itself keeps the single version of each object.
  versioning {
    enabled = false
  }

  encryption {
    default_kms_key_name = var.kms_key_id
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_retention_days * 86400
  }

  labels = var.labels
}
