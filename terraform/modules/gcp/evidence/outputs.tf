output "bucket_name" {
  description = "Name of the bucket."
  value       = try(google_storage_bucket.this.name, null)
}

output "bucket_url" {
  description = "gs:// URL of the bucket."
  value       = try(google_storage_bucket.this.url, null)
}

output "retention_locked" {
  description = "Whether the retention policy is locked (COMPLIANCE)."
  value       = var.object_lock_mode == "COMPLIANCE"
}

output "replication_job_name" {
  description = "Name of the Storage Transfer Service replication job (null without replication)."
  value       = try(google_storage_transfer_job.replication[0].name, null)
}
