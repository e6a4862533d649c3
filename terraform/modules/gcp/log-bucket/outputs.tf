output "bucket_id" {
  description = "ID of the log bucket (projects/<project>/locations/<location>/buckets/<name>)."
  value       = try(google_logging_project_bucket_config.this.id, null)
}

output "bucket_name" {
  description = "Short name (bucket_id) of the log bucket."
  value       = try(google_logging_project_bucket_config.this.bucket_id, null)
}

output "sink_name" {
  description = "Name of the sink that fills the bucket."
  value       = try(google_logging_project_sink.this.name, null)
}

output "sink_writer_identity" {
  description = "Identity the sink writes as."
  value       = try(google_logging_project_sink.this.writer_identity, null)
}
