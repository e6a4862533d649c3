# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked, so apply runs finish in seconds; the assertions
# check what the module decides (WORM, encryption, TLS, logging, replication
# scope), not AWS.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  # Mocked resources still go through the real provider's config validation:
  # computed ARNs that feed ARN-validated arguments need ARN-shaped values.
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/infractl-evidence-123456789012-eu-west-1-test-replication"
    }
  }
}

# Distinct, realistic names and ARNs for the two buckets.
override_resource {
  target = aws_s3_bucket.this
  values = {
    id  = "infractl-evidence-123456789012-eu-west-1-test"
    arn = "arn:aws:s3:::infractl-evidence-123456789012-eu-west-1-test"
  }
}

# The log bucket is built by modules/aws/access-logs (its own tests cover it).
override_resource {
  target = module.access_logs.aws_s3_bucket.log
  values = {
    id  = "infractl-evidence-123456789012-eu-west-1-test-access-logs"
    arn = "arn:aws:s3:::infractl-evidence-123456789012-eu-west-1-test-access-logs"
  }
}

variables {
  name           = "infractl-evidence-123456789012-eu-west-1-test"
  kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  retention_days = 7
  tags = {
    environment = "test"
    owner       = "platform"
  }
}

################################################################################
# Defaults: a locked, encrypted, TLS-only bucket with access logging and no
# replication (this is also how the DR replica is built)
################################################################################

run "defaults_without_replication" {
  command = apply

  assert {
    condition     = aws_s3_bucket.this.bucket == var.name && aws_s3_bucket.this.object_lock_enabled == true && aws_s3_bucket.this.force_destroy == false
    error_message = "The evidence bucket must be created with Object Lock on and force_destroy off."
  }

  assert {
    condition = (
      aws_s3_bucket_object_lock_configuration.this.bucket == aws_s3_bucket.this.id &&
      aws_s3_bucket_object_lock_configuration.this.rule[0].default_retention[0].mode == "COMPLIANCE" &&
      aws_s3_bucket_object_lock_configuration.this.rule[0].default_retention[0].days == 7 &&
      aws_s3_bucket_object_lock_configuration.this.rule[0].default_retention[0].years == null
    )
    error_message = "The default retention must be COMPLIANCE for retention_days days."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.bucket == aws_s3_bucket.this.id && aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be enabled on the evidence bucket."
  }

  assert {
    condition = (
      aws_s3_bucket_server_side_encryption_configuration.this.bucket == aws_s3_bucket.this.id &&
      one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn &&
      one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled == true
    )
    error_message = "The evidence bucket must default to SSE-KMS with the given CMK and an S3 Bucket Key."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.block_public_policy &&
      aws_s3_bucket_public_access_block.this.ignore_public_acls && aws_s3_bucket_public_access_block.this.restrict_public_buckets &&
      aws_s3_bucket_public_access_block.this.bucket == aws_s3_bucket.this.id
    )
    error_message = "The evidence bucket must block every kind of public access."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced" && aws_s3_bucket_ownership_controls.this.bucket == aws_s3_bucket.this.id
    error_message = "The evidence bucket must disable ACLs (BucketOwnerEnforced)."
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
    error_message = "The evidence bucket policy must deny every request without TLS."
  }

  assert {
    condition = (
      anytrue([for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : try(
        s.Effect == "Deny" && s.Action == "s3:PutObject" &&
        s.Condition.StringNotEquals["s3:x-amz-server-side-encryption"] == "aws:kms" && s.Condition.Null["s3:x-amz-server-side-encryption"] == "false",
      false)]) &&
      anytrue([for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : try(
        s.Effect == "Deny" && s.Action == "s3:PutObject" &&
        s.Condition.StringNotEquals["s3:x-amz-server-side-encryption-aws-kms-key-id"] == var.kms_key_arn && s.Condition.Null["s3:x-amz-server-side-encryption-aws-kms-key-id"] == "false",
      false)])
    )
    error_message = "The evidence bucket policy must refuse uploads that ask for another encryption or another key, and only those (uploads without headers get the default)."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Effect == "Deny"])
    error_message = "The evidence bucket policy must only deny; access is granted by IAM."
  }

  # Access-log bucket (modules/aws/access-logs): what this module decides
  assert {
    condition     = output.log_bucket_name == "${var.name}-access-logs" && output.log_bucket_arn == "arn:aws:s3:::${var.name}-access-logs"
    error_message = "The access-log bucket must be \"<name>-access-logs\", exposed by log_bucket_name and log_bucket_arn."
  }

  assert {
    condition     = aws_s3_bucket_logging.this.bucket == aws_s3_bucket.this.id && aws_s3_bucket_logging.this.target_bucket == output.log_bucket_name && aws_s3_bucket_logging.this.target_prefix == "${var.name}/"
    error_message = "The evidence bucket must log its access to the log bucket under \"<name>/\"."
  }

  # No replication
  assert {
    condition     = length(aws_iam_role.replication) == 0 && length(aws_iam_role_policy.replication) == 0 && length(aws_s3_bucket_replication_configuration.this) == 0 && output.replication_role_arn == null
    error_message = "Without replication_enabled there must be no replication role or configuration."
  }

  assert {
    condition     = lookup(aws_s3_bucket.this.tags, "environment", null) == "test" && lookup(aws_s3_bucket.this.tags, "owner", null) == "platform" && aws_s3_bucket.this.tags["Name"] == var.name
    error_message = "var.tags must be merged onto the evidence bucket, next to a Name tag."
  }

  assert {
    condition     = output.bucket_name == aws_s3_bucket.this.id && output.bucket_arn == aws_s3_bucket.this.arn && output.bucket_arn == "arn:aws:s3:::${var.name}"
    error_message = "Outputs must expose the evidence bucket."
  }
}

run "governance_mode" {
  command = plan

  variables {
    object_lock_mode = "GOVERNANCE"
    retention_days   = 2555
  }

  assert {
    condition = (
      aws_s3_bucket_object_lock_configuration.this.rule[0].default_retention[0].mode == "GOVERNANCE" &&
      aws_s3_bucket_object_lock_configuration.this.rule[0].default_retention[0].days == 2555
    )
    error_message = "object_lock_mode and retention_days must reach the default retention."
  }
}

################################################################################
# Replication to a locked replica in the DR region
################################################################################

run "replication" {
  command = apply

  variables {
    replication_enabled = true
    replica_bucket_arn  = "arn:aws:s3:::infractl-evidence-123456789012-eu-central-1-test"
    replica_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/abcd1234-ab12-cd34-ef56-abcdef123456"
  }

  assert {
    condition = (
      length(aws_s3_bucket_replication_configuration.this) == 1 &&
      aws_s3_bucket_replication_configuration.this[0].bucket == aws_s3_bucket.this.id &&
      aws_s3_bucket_replication_configuration.this[0].role == aws_iam_role.replication[0].arn
    )
    error_message = "Replication must be configured on the evidence bucket with the module's role."
  }

  assert {
    condition = (
      length(aws_s3_bucket_replication_configuration.this[0].rule) == 1 &&
      aws_s3_bucket_replication_configuration.this[0].rule[0].status == "Enabled" &&
      aws_s3_bucket_replication_configuration.this[0].rule[0].delete_marker_replication[0].status == "Disabled" &&
      aws_s3_bucket_replication_configuration.this[0].rule[0].source_selection_criteria[0].sse_kms_encrypted_objects[0].status == "Enabled"
    )
    error_message = "The single rule must replicate SSE-KMS objects and never delete markers."
  }

  assert {
    condition = (
      aws_s3_bucket_replication_configuration.this[0].rule[0].destination[0].bucket == var.replica_bucket_arn &&
      aws_s3_bucket_replication_configuration.this[0].rule[0].destination[0].encryption_configuration[0].replica_kms_key_id == var.replica_kms_key_arn
    )
    error_message = "Replicas must go to the replica bucket, encrypted with the replica key."
  }

  assert {
    condition = (
      aws_iam_role.replication[0].name == "${var.name}-replication" &&
      aws_iam_role.replication[0].max_session_duration == 3600 &&
      jsondecode(aws_iam_role.replication[0].assume_role_policy).Statement[0].Principal.Service == "s3.amazonaws.com" &&
      jsondecode(aws_iam_role.replication[0].assume_role_policy).Statement[0].Action == "sts:AssumeRole" &&
      jsondecode(aws_iam_role.replication[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012" &&
      jsondecode(aws_iam_role.replication[0].assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == aws_s3_bucket.this.arn
    )
    error_message = "Only S3 acting for the evidence bucket of this account may assume the replication role."
  }

  assert {
    condition     = aws_iam_role_policy.replication[0].role == aws_iam_role.replication[0].id && output.replication_role_arn == aws_iam_role.replication[0].arn
    error_message = "The replication policy must be attached to the role, and the role exposed."
  }

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.replication[0].policy).Statement : [
        for r in flatten([s.Resource]) : s.Effect == "Allow" && !strcontains(r, "*") || endswith(r, "/*") && !startswith(r, "*")
      ]
    ]))
    error_message = "The replication policy must name its resources (no wildcard resources beyond bucket/*)."
  }

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.replication[0].policy).Statement : flatten([s.Resource])])) == toset([
      aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*", "${var.replica_bucket_arn}/*", var.kms_key_arn, var.replica_kms_key_arn,
    ])
    error_message = "The replication role may only touch the two buckets and the two keys."
  }

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.replication[0].policy).Statement : flatten([s.Action])])) == toset([
      "s3:GetReplicationConfiguration", "s3:ListBucket",
      "s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold",
      "s3:ReplicateObject", "s3:ReplicateTags",
      "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
    ])
    error_message = "The replication role must hold exactly the replication actions (no s3:ReplicateDelete, no wildcards)."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.replication[0].policy).Statement :
      try(
        s.Action == "kms:Decrypt" && s.Resource == var.kms_key_arn && s.Condition.StringEquals["kms:ViaService"] == "s3.eu-west-1.amazonaws.com" &&
        toset(s.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"]) == toset([aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]),
      false)
      ]) && anytrue([
      for s in jsondecode(aws_iam_role_policy.replication[0].policy).Statement :
      try(
        s.Resource == var.replica_kms_key_arn && s.Condition.StringEquals["kms:ViaService"] == "s3.eu-central-1.amazonaws.com" &&
        toset(s.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"]) == toset([var.replica_bucket_arn, "${var.replica_bucket_arn}/*"]),
      false)
    ])
    error_message = "KMS use must be limited to S3 in each key's region and to the two buckets' encryption context."
  }

  assert {
    condition     = aws_s3_bucket.this.object_lock_enabled && aws_s3_bucket_object_lock_configuration.this.rule[0].default_retention[0].mode == "COMPLIANCE"
    error_message = "Replication must not change the source's lock."
  }
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_name_uppercase" {
  command = plan
  variables {
    name = "Evidence-Bucket"
  }
  expect_failures = [var.name]
}

run "invalid_name_dots" {
  command = plan
  variables {
    name = "evidence.example.com"
  }
  expect_failures = [var.name]
}

run "invalid_name_too_long_for_log_bucket" {
  command = plan
  variables {
    name = "infractl-evidence-123456789012-ap-southeast-2-staging"
  }
  expect_failures = [var.name]
}

run "invalid_name_too_short" {
  command = plan
  variables {
    name = "ab"
  }
  expect_failures = [var.name]
}

run "invalid_name_reserved_prefix" {
  command = plan
  variables {
    name = "xn--evidence"
  }
  expect_failures = [var.name]
}

run "invalid_name_reserved_suffix" {
  command = plan
  variables {
    name = "evidence-s3alias"
  }
  expect_failures = [var.name]
}

run "invalid_kms_key_alias" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/evidence"
  }
  expect_failures = [var.kms_key_arn]
}

run "invalid_retention_zero" {
  command = plan
  variables {
    retention_days = 0
  }
  expect_failures = [var.retention_days]
}

run "invalid_retention_fraction" {
  command = plan
  variables {
    retention_days = 1.5
  }
  expect_failures = [var.retention_days]
}

run "invalid_retention_too_long" {
  command = plan
  variables {
    retention_days = 36501
  }
  expect_failures = [var.retention_days]
}

run "invalid_object_lock_mode" {
  command = plan
  variables {
    object_lock_mode = "compliance"
  }
  expect_failures = [var.object_lock_mode]
}

run "invalid_access_log_expiration_days" {
  command = plan
  variables {
    access_log_expiration_days = 0
  }
  expect_failures = [var.access_log_expiration_days]
}

run "invalid_replication_without_bucket" {
  command = plan
  variables {
    replication_enabled = true
    replica_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/abcd1234-ab12-cd34-ef56-abcdef123456"
  }
  expect_failures = [var.replica_bucket_arn]
}

run "invalid_replication_without_key" {
  command = plan
  variables {
    replication_enabled = true
    replica_bucket_arn  = "arn:aws:s3:::infractl-evidence-123456789012-eu-central-1-test"
  }
  expect_failures = [var.replica_kms_key_arn]
}

run "invalid_replica_bucket_arn" {
  command = plan
  variables {
    replication_enabled = true
    replica_bucket_arn  = "infractl-evidence-123456789012-eu-central-1-test"
    replica_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/abcd1234-ab12-cd34-ef56-abcdef123456"
  }
  expect_failures = [var.replica_bucket_arn]
}

run "invalid_replica_kms_key_alias" {
  command = plan
  variables {
    replication_enabled = true
    replica_bucket_arn  = "arn:aws:s3:::infractl-evidence-123456789012-eu-central-1-test"
    replica_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:alias/evidence-replica"
  }
  expect_failures = [var.replica_kms_key_arn]
}

run "invalid_tags_aws_prefix" {
  command = plan
  variables {
    tags = { "aws:cloudformation:stack-name" = "x" }
  }
  expect_failures = [var.tags]
}
