# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked, so apply runs finish in seconds; the assertions
# check what the module decides (encryption under the key, TLS, the key of
# every upload, public access, versions, lifecycle, logging), not AWS.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

# Distinct, realistic names and ARNs for the two buckets.
override_resource {
  target = aws_s3_bucket.this
  values = {
    id  = "bkp-123456789012-eu-west-1-test"
    arn = "arn:aws:s3:::bkp-123456789012-eu-west-1-test"
  }
}

# The log bucket is built by modules/aws/access-logs (its own tests cover it).
override_resource {
  target = module.access_logs.aws_s3_bucket.log
  values = {
    id  = "bkp-123456789012-eu-west-1-test-access-logs"
    arn = "arn:aws:s3:::bkp-123456789012-eu-west-1-test-access-logs"
  }
}

variables {
  name        = "bkp-123456789012-eu-west-1-test"
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  tags = {
    environment = "test"
    owner       = "platform"
  }
}

run "defaults" {
  command = apply

  assert {
    condition     = aws_s3_bucket.this.bucket == var.name && aws_s3_bucket.this.force_destroy == false && aws_s3_bucket.this.object_lock_enabled != true
    error_message = "The backup bucket must be named var.name, never force-destroyed, and have no Object Lock."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.bucket == aws_s3_bucket.this.id && aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be enabled on the backup bucket."
  }

  assert {
    condition = (
      aws_s3_bucket_server_side_encryption_configuration.this.bucket == aws_s3_bucket.this.id &&
      one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn &&
      one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled == true
    )
    error_message = "The backup bucket must default to SSE-KMS with the given key and an S3 Bucket Key."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.bucket == aws_s3_bucket.this.id &&
      aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.block_public_policy &&
      aws_s3_bucket_public_access_block.this.ignore_public_acls && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "The backup bucket must block every kind of public access."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced" && aws_s3_bucket_ownership_controls.this.bucket == aws_s3_bucket.this.id
    error_message = "The backup bucket must disable ACLs (BucketOwnerEnforced)."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement :
      try(
        s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*" &&
        toset(s.Resource) == toset([aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]) &&
        s.Condition.Bool["aws:SecureTransport"] == "false",
      false)
    ]) && aws_s3_bucket_policy.this.bucket == aws_s3_bucket.this.id
    error_message = "The backup bucket policy must deny every request without TLS."
  }

  assert {
    condition = anytrue([for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : try(
      s.Sid == "DenyNonKmsEncryption" && s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:PutObject" &&
      s.Resource == "${aws_s3_bucket.this.arn}/*" &&
      s.Condition.StringNotEquals["s3:x-amz-server-side-encryption"] == "aws:kms" && s.Condition.Null["s3:x-amz-server-side-encryption"] == "false",
    false)])
    error_message = "The backup bucket policy must refuse uploads asking for an encryption other than SSE-KMS, and only those."
  }

  # An upload naming the key (SSEKMSKeyId = its ARN) passes; another key is refused.
  assert {
    condition = anytrue([for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : try(
      s.Sid == "DenyOtherKmsKeys" && s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:PutObject" &&
      s.Resource == "${aws_s3_bucket.this.arn}/*" &&
      s.Condition.StringNotEquals["s3:x-amz-server-side-encryption-aws-kms-key-id"] == var.kms_key_arn &&
      s.Condition.Null["s3:x-amz-server-side-encryption-aws-kms-key-id"] == "false",
    false)])
    error_message = "The backup bucket policy must refuse uploads naming another KMS key, and only those (the key's own ARN passes, no header gets the default)."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Effect == "Deny"]) && length(jsondecode(aws_s3_bucket_policy.this.policy).Statement) == 3
    error_message = "The backup bucket policy must only deny (TLS, encryption, key); access is granted by IAM."
  }

  assert {
    condition = (
      aws_s3_bucket_lifecycle_configuration.this.bucket == aws_s3_bucket.this.id &&
      length(aws_s3_bucket_lifecycle_configuration.this.rule) == 1 &&
      aws_s3_bucket_lifecycle_configuration.this.rule[0].status == "Enabled" &&
      aws_s3_bucket_lifecycle_configuration.this.rule[0].abort_incomplete_multipart_upload[0].days_after_initiation == 1 &&
      aws_s3_bucket_lifecycle_configuration.this.rule[0].noncurrent_version_expiration[0].noncurrent_days == 30
    )
    error_message = "Incomplete multipart uploads must be aborted after 1 day and noncurrent versions expire after noncurrent_version_days (30 by default)."
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this.rule[0].expiration) == 0 && length(aws_s3_bucket_lifecycle_configuration.this.rule[0].transition) == 0
    error_message = "Current backups must never expire (nor move) by lifecycle: deleting backups is infractl tenant's decision."
  }

  assert {
    condition = (
      aws_s3_bucket_logging.this.bucket == aws_s3_bucket.this.id &&
      aws_s3_bucket_logging.this.target_bucket == "${var.name}-access-logs" &&
      aws_s3_bucket_logging.this.target_prefix == "${var.name}/" &&
      output.log_bucket_name == aws_s3_bucket_logging.this.target_bucket
    )
    error_message = "The backup bucket must log its access to \"<name>-access-logs\" under \"<name>/\"."
  }

  assert {
    condition     = lookup(aws_s3_bucket.this.tags, "environment", null) == "test" && lookup(aws_s3_bucket.this.tags, "owner", null) == "platform" && aws_s3_bucket.this.tags["Name"] == var.name
    error_message = "var.tags must be merged onto the backup bucket, next to a Name tag."
  }

  assert {
    condition     = output.bucket_name == aws_s3_bucket.this.id && output.bucket_arn == aws_s3_bucket.this.arn && output.bucket_arn == "arn:aws:s3:::${var.name}"
    error_message = "Outputs must expose the backup bucket."
  }
}

run "noncurrent_version_days" {
  command = plan

  variables {
    noncurrent_version_days = 7
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this.rule[0].noncurrent_version_expiration[0].noncurrent_days == 7
    error_message = "noncurrent_version_days must reach the lifecycle rule."
  }
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_name_uppercase" {
  command = plan
  variables {
    name = "Backup-Bucket"
  }
  expect_failures = [var.name]
}

run "invalid_name_dots" {
  command = plan
  variables {
    name = "backups.example.com"
  }
  expect_failures = [var.name]
}

run "invalid_name_too_long_for_log_bucket" {
  command = plan
  variables {
    # 52 characters: "<name>-access-logs" would pass S3's 63.
    name = "infractl-backups-123456789012-eu-west-1-staging-xyz1" # pragma: allowlist secret
  }
  expect_failures = [var.name]
}

run "invalid_name_reserved_prefix" {
  command = plan
  variables {
    name = "xn--backups"
  }
  expect_failures = [var.name]
}

run "invalid_kms_key_alias" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/test-database"
  }
  expect_failures = [var.kms_key_arn]
}

run "invalid_noncurrent_version_days_zero" {
  command = plan
  variables {
    noncurrent_version_days = 0
  }
  expect_failures = [var.noncurrent_version_days]
}

run "invalid_noncurrent_version_days_fraction" {
  command = plan
  variables {
    noncurrent_version_days = 1.5
  }
  expect_failures = [var.noncurrent_version_days]
}

run "invalid_tags_aws_prefix" {
  command = plan
  variables {
    tags = { "aws:cloudformation:stack-name" = "x" }
  }
  expect_failures = [var.tags]
}
