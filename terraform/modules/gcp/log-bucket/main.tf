# A log bucket of its own, with the retention the stack asks for, encrypted
# with a customer-managed key, and the sink that copies the selected entries
# into it. The _Default bucket keeps receiving them too (30 days); this bucket
# is the copy kept for retention_days.
resource "google_logging_project_bucket_config" "this" {
  project        = var.project_id
  location       = var.location
  bucket_id      = var.name
  description    = var.description
  retention_days = var.retention_days
  locked         = var.locked

  cmek_settings {
    kms_key_name = var.kms_key_id
  }
}

# A sink into a log bucket of the same project needs no IAM grant for its
# writer identity.
resource "google_logging_project_sink" "this" {
  project                = var.project_id
  name                   = var.name
  description            = var.description
  destination            = "logging.googleapis.com/${google_logging_project_bucket_config.this.id}"
  filter                 = var.filter
  unique_writer_identity = true
}
