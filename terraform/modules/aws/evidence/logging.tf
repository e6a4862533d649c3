################################################################################
# Access-log bucket: "<name>-access-logs", receives the evidence bucket's
# S3 server access logs (modules/aws/access-logs)
################################################################################

module "access_logs" {
  source = "../access-logs"

  name              = local.log_bucket_name
  source_bucket_arn = aws_s3_bucket.this.arn
  prefix            = local.access_log_prefix
  expiration_days   = var.access_log_expiration_days

  tags = var.tags
}

resource "aws_s3_bucket_logging" "this" {
  bucket = aws_s3_bucket.this.id

  # Known once the log bucket's policy lets the logging service write.
  target_bucket = module.access_logs.bucket_name
  target_prefix = local.access_log_prefix
}

# The log bucket used to be declared here: existing deployments keep it.
moved {
  from = aws_s3_bucket.log
  to   = module.access_logs.aws_s3_bucket.log
}

moved {
  from = aws_s3_bucket_versioning.log
  to   = module.access_logs.aws_s3_bucket_versioning.log
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.log
  to   = module.access_logs.aws_s3_bucket_server_side_encryption_configuration.log
}

moved {
  from = aws_s3_bucket_public_access_block.log
  to   = module.access_logs.aws_s3_bucket_public_access_block.log
}

moved {
  from = aws_s3_bucket_ownership_controls.log
  to   = module.access_logs.aws_s3_bucket_ownership_controls.log
}

moved {
  from = aws_s3_bucket_policy.log
  to   = module.access_logs.aws_s3_bucket_policy.log
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.log
  to   = module.access_logs.aws_s3_bucket_lifecycle_configuration.log
}
