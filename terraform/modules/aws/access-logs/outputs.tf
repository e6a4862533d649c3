output "bucket_name" {
  description = "Name (and ID) of the access-log bucket. Available once its policy lets the logging service write, so the source bucket's logging may target it."
  value       = try(aws_s3_bucket.log.bucket, null)

  # The log bucket must let the logging service write before logs are sent.
  depends_on = [aws_s3_bucket_policy.log]
}

output "bucket_arn" {
  description = "ARN of the access-log bucket."
  value       = try(aws_s3_bucket.log.arn, null)
}
