data "aws_caller_identity" "current" {}

################################################################################
# Access-log bucket: receives one source bucket's S3 server access logs under
# a prefix
################################################################################

# The resources are named `log`, not `this`: the callers name their own bucket
# aws_s3_bucket.this, and checkov's plan scan links a nested module's
# configuration resources to a same-named bucket of the calling module (the
# caller's bucket then failed the versioning, public access block, encryption
# and logging checks in every env's plan).

resource "aws_s3_bucket" "log" {
  #checkov:skip=CKV_AWS_145:S3 server access log delivery does not support SSE-KMS on the target bucket; it uses SSE-S3 (AES256)
  #checkov:skip=CKV_AWS_144:holds request metadata of a bucket in this region, read by audits here; a source bucket that replicates to another region pairs with a log bucket of its own there
  #checkov:skip=CKV2_AWS_62:nothing consumes object events of access logs; they are read by audits, not by automation
  #checkov:skip=CKV_AWS_18:this bucket is the target of server access logs, whose own access is not logged (into itself it would loop); checkov passes a log target when it links the source's aws_s3_bucket_logging, which it fails to do across two instances of a nested module
  bucket = var.name

  # Access logs are part of the audit trail: never emptied by Terraform.
  force_destroy = false

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_s3_bucket_versioning" "log" {
  bucket = aws_s3_bucket.log.id

  versioning_configuration {
    status = "Enabled"
  }
}

# AWS requirement: the target bucket of S3 server access logging must use
# SSE-S3 (AES256) as its default encryption; SSE-KMS is not supported there.
# The logs hold request metadata only, never the source bucket's content.
resource "aws_s3_bucket_server_side_encryption_configuration" "log" {
  bucket = aws_s3_bucket.log.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "log" {
  bucket = aws_s3_bucket.log.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# With ACLs disabled the logging service is authorised by the bucket policy
# below (not by the log-delivery group ACL).
resource "aws_s3_bucket_ownership_controls" "log" {
  bucket = aws_s3_bucket.log.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_policy" "log" {
  bucket = aws_s3_bucket.log.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "S3ServerAccessLogsPolicy"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.log.arn}/${var.prefix}*"
        # Confused-deputy guard: only logs of the source bucket, in this account.
        Condition = {
          ArnLike      = { "aws:SourceArn" = var.source_bucket_arn }
          StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
        }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.log.arn, "${aws_s3_bucket.log.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  # S3 rejects concurrent changes to one bucket's policy and public access block.
  depends_on = [aws_s3_bucket_public_access_block.log]
}

resource "aws_s3_bucket_lifecycle_configuration" "log" {
  bucket = aws_s3_bucket.log.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.expiration_days
    }

    # Expiry leaves a delete marker in a versioned bucket; the log version
    # itself goes 30 days later.
    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Lifecycle rules on a versioned bucket need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.log]
}
