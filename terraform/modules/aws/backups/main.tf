locals {
  log_bucket_name = "${var.name}-access-logs"
  # Prefix of this bucket's server access logs in the log bucket.
  access_log_prefix = "${var.name}/"
}

################################################################################
# Backup bucket: versioned, SSE-KMS under one key, private, TLS-only
################################################################################

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:the backups are a copy of a database that has automated backups and point-in-time restore of its own; a copy in another region is the concern of the DR drills, not of this bucket
  #checkov:skip=CKV2_AWS_62:nothing consumes object events of the backups; the writer records each backup itself (its manifest, the tenant catalog)
  bucket = var.name

  # Never delete backups with Terraform: a destroy must fail while the bucket
  # holds objects (the stack keeps it then: retain_on_destroy).
  force_destroy = false

  tags = merge(var.tags, { Name = var.name })
}

# An overwritten or deleted backup stays recoverable as a noncurrent version
# for noncurrent_version_days (lifecycle below).
resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # One data key per bucket instead of one KMS call per object (and part).
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs off: the bucket owner owns every object, access is decided by policies only.
resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      # Uploads without encryption headers get the default (this key); uploads
      # naming it (ServerSideEncryption = aws:kms, SSEKMSKeyId = its ARN, as
      # infractl's do) pass. These two refuse a header asking for anything else
      # (Null = "false": only when the header is present), so that every
      # backup is under this key. s3:PutObject also governs
      # CreateMultipartUpload, where a multipart upload's headers are sent.
      {
        Sid       = "DenyNonKmsEncryption"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.this.arn}/*"
        Condition = {
          Null            = { "s3:x-amz-server-side-encryption" = "false" }
          StringNotEquals = { "s3:x-amz-server-side-encryption" = "aws:kms" }
        }
      },
      {
        Sid       = "DenyOtherKmsKeys"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.this.arn}/*"
        Condition = {
          Null            = { "s3:x-amz-server-side-encryption-aws-kms-key-id" = "false" }
          StringNotEquals = { "s3:x-amz-server-side-encryption-aws-kms-key-id" = var.kms_key_arn }
        }
      },
    ]
  })

  # S3 rejects concurrent changes to one bucket's policy and public access block.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# Current objects never expire here: which backups to keep, and when to delete
# one, is decided by `infractl tenant` (a tenant's last backup gates its
# deletion), not by age. The lifecycle only cleans up after it.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "backup-versions"
    status = "Enabled"

    filter {}

    # Backups are uploaded in parts: parts of an upload that never completed
    # (a killed backup) are billed until aborted.
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }

    # A deleted or overwritten backup stays recoverable for this long.
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
  }

  # Lifecycle rules on a versioned bucket need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.this]
}

################################################################################
# Server access logs: "<name>-access-logs" under "<name>/"
################################################################################

module "access_logs" {
  source = "../access-logs"

  name              = local.log_bucket_name
  source_bucket_arn = aws_s3_bucket.this.arn
  prefix            = local.access_log_prefix

  tags = var.tags
}

resource "aws_s3_bucket_logging" "this" {
  bucket = aws_s3_bucket.this.id

  # Known once the log bucket's policy lets the logging service write.
  target_bucket = module.access_logs.bucket_name
  target_prefix = local.access_log_prefix
}
