# Data Access audit logs of Cloud Storage: every object read and write, and
# every metadata read, logged with the caller's identity. The setting is
# per service and project-wide (this resource is authoritative for
# storage.googleapis.com: no other stack may manage it).
resource "google_project_iam_audit_config" "storage" {
  project = var.project_id
  service = "storage.googleapis.com"

  audit_log_config {
    log_type = "ADMIN_READ"
  }

  audit_log_config {
    log_type = "DATA_READ"
  }

  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# The audited buckets' entries, kept in a log bucket of their own.
module "log_bucket" {
  source = "../log-bucket"

  project_id     = var.project_id
  name           = var.name
  description    = "Cloud Storage audit logs (admin and data access) of ${join(", ", var.bucket_names)}, kept ${var.retention_days} days."
  location       = var.location
  retention_days = var.retention_days
  locked         = var.locked
  kms_key_id     = var.kms_key_id

  filter = join(" AND ", [
    "resource.type=\"gcs_bucket\"",
    "(${join(" OR ", [for b in var.bucket_names : "resource.labels.bucket_name=\"${b}\""])})",
    "logName:\"/logs/cloudaudit.googleapis.com%2F\"",
  ])
}
