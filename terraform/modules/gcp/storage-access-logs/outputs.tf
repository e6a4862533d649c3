output "log_bucket_id" {
  description = "ID of the log bucket keeping the buckets' audit logs."
  value       = module.log_bucket.bucket_id
}

output "sink_name" {
  description = "Name of the sink copying the audit log entries into the log bucket."
  value       = module.log_bucket.sink_name
}
