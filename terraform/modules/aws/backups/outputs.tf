output "bucket_name" {
  description = "Name of the backup bucket (known at plan time: the name given)."
  value       = try(aws_s3_bucket.this.bucket, null)
}

output "bucket_arn" {
  description = "ARN of the backup bucket. Available once versioning, encryption and the bucket policy are in place, so writers may use it."
  value       = try(aws_s3_bucket.this.arn, null)

  depends_on = [
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_policy.this,
  ]
}

output "log_bucket_name" {
  description = "Name of the bucket receiving the backup bucket's S3 server access logs (\"<name>-access-logs\")."
  value       = module.access_logs.bucket_name
}
