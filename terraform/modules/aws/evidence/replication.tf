################################################################################
# Replication of every SSE-KMS object to the replica bucket (optional)
################################################################################

locals {
  # KMS keys are regional: the replica key's region is the replica bucket's.
  replica_region = try(split(":", var.replica_kms_key_arn)[3], null)
}

# IAM is global; var.name already carries the account, region and environment.
resource "aws_iam_role" "replication" {
  count = var.replication_enabled ? 1 : 0

  name                 = "${var.name}-replication"
  description          = "Lets S3 replicate ${var.name} to ${var.replica_bucket_arn}."
  max_session_duration = 3600

  # Confused-deputy guard: only S3 acting for this bucket in this account.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "S3ReplicationAssume"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
        ArnLike      = { "aws:SourceArn" = aws_s3_bucket.this.arn }
      }
    }]
  })

  tags = merge(var.tags, { Name = "${var.name}-replication" })
}

resource "aws_iam_role_policy" "replication" {
  count = var.replication_enabled ? 1 : 0

  name = "replicate-evidence"
  role = aws_iam_role.replication[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadSourceReplicationConfiguration"
        Effect   = "Allow"
        Action   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
        Resource = aws_s3_bucket.this.arn
      },
      {
        # Retention and legal hold travel with each version, so replicas are locked too.
        Sid    = "ReadSourceVersions"
        Effect = "Allow"
        Action = [
          "s3:GetObjectVersionForReplication",
          "s3:GetObjectVersionAcl",
          "s3:GetObjectVersionTagging",
          "s3:GetObjectRetention",
          "s3:GetObjectLegalHold",
        ]
        Resource = "${aws_s3_bucket.this.arn}/*"
      },
      {
        # No s3:ReplicateDelete: delete markers are not replicated.
        Sid      = "WriteReplicas"
        Effect   = "Allow"
        Action   = ["s3:ReplicateObject", "s3:ReplicateTags"]
        Resource = "${var.replica_bucket_arn}/*"
      },
      {
        # With an S3 Bucket Key the encryption context is the bucket ARN,
        # without one the object ARN: both are allowed, nothing else.
        Sid      = "DecryptSourceObjects"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" }
          StringLike   = { "kms:EncryptionContext:aws:s3:arn" = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"] }
        }
      },
      {
        Sid      = "EncryptReplicas"
        Effect   = "Allow"
        Action   = ["kms:Encrypt", "kms:GenerateDataKey"]
        Resource = var.replica_kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.replica_region}.amazonaws.com" }
          StringLike   = { "kms:EncryptionContext:aws:s3:arn" = [var.replica_bucket_arn, "${var.replica_bucket_arn}/*"] }
        }
      },
    ]
  })
}

resource "aws_s3_bucket_replication_configuration" "this" {
  count = var.replication_enabled ? 1 : 0

  # Through the versioning resource: S3 refuses replication on an unversioned source.
  bucket = aws_s3_bucket_versioning.this.bucket
  role   = aws_iam_role.replication[0].arn

  # Object Lock buckets no longer need the support-issued `token`.
  rule {
    id     = "replicate-evidence"
    status = "Enabled"

    filter {}

    # Deletes never propagate: a delete marker in the source stays local.
    delete_marker_replication {
      status = "Disabled"
    }

    # Every evidence object is SSE-KMS (default encryption + bucket policy);
    # without this S3 would skip them.
    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket        = var.replica_bucket_arn
      storage_class = "STANDARD"

      encryption_configuration {
        replica_kms_key_id = var.replica_kms_key_arn
      }
    }
  }

  # S3 checks the role's permissions when replicating, not here, but the
  # role should be complete before the first object is copied.
  depends_on = [aws_iam_role_policy.replication]
}
