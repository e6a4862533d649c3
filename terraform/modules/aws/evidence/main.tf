data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  log_bucket_name = "${var.name}-access-logs"
  # Prefix of this bucket's server access logs in the log bucket.
  access_log_prefix = "${var.name}/"
}

################################################################################
# Evidence bucket (WORM)
################################################################################

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:the primary bucket replicates to the locked DR bucket (aws_s3_bucket_replication_configuration.this in replication.tf, a separate resource checkov does not link); the DR bucket is itself the cross-region copy
  #checkov:skip=CKV2_AWS_61:evidence is never expired by a lifecycle rule: Object Lock retention keeps every version, and deleting evidence afterwards is an operator decision (docs/evidence.md)
  #checkov:skip=CKV2_AWS_62:writers record each evidence object in the database through the outbox; S3 event notifications would be a second, unused channel
  bucket = var.name

  # Object Lock can only be switched on when the bucket is created (it also
  # turns versioning on for good); the default retention is set below.
  object_lock_enabled = true

  # Never delete audit evidence with Terraform: a destroy must fail while the
  # bucket holds objects (locked versions could not be deleted anyway).
  force_destroy = false

  tags = merge(var.tags, { Name = var.name })
}

# Already on through object_lock_enabled; declared so that it is explicit and
# any drift shows up in a plan. S3 refuses to suspend versioning on an Object
# Lock bucket: on destroy the provider then just drops this from state.
resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    default_retention {
      mode = var.object_lock_mode
      days = var.retention_days
    }
  }

  # Object Lock needs versioning: configure it after versioning and remove it
  # before versioning on destroy.
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # One data key per bucket instead of one KMS call per object.
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
      # Uploads without encryption headers get the default (this CMK). These
      # two refuse a header asking for anything else (Null = "false": only when
      # the header is present), so that every object is under this key and
      # matches the SSE-KMS replication filter.
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
