output "bucket_name" {
  description = "Name of the evidence bucket."
  value       = try(aws_s3_bucket.this.id, null)
}

output "bucket_arn" {
  description = "ARN of the evidence bucket. Available once versioning, Object Lock retention, encryption and the bucket policy are in place, so a replication source may target it."
  value       = try(aws_s3_bucket.this.arn, null)

  depends_on = [
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_object_lock_configuration.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_policy.this,
  ]
}

output "log_bucket_name" {
  description = "Name of the bucket receiving the evidence bucket's S3 server access logs (\"<name>-access-logs\")."
  value       = module.access_logs.bucket_name
}

output "log_bucket_arn" {
  description = "ARN of the access-log bucket."
  value       = module.access_logs.bucket_arn
}

output "replication_role_arn" {
  description = "ARN of the IAM role S3 uses to replicate to the replica bucket; null when replication is disabled."
  value       = try(aws_iam_role.replication[0].arn, null)
}
