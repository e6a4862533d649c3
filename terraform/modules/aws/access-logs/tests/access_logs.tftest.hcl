# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked, so apply runs finish in seconds; the assertions
# check what the module decides (SSE-S3, TLS, who may write where, expiry), not
# AWS.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

# A realistic name and ARN for the log bucket.
override_resource {
  target = aws_s3_bucket.log
  values = {
    id  = "infractl-evidence-123456789012-eu-west-1-test-access-logs"
    arn = "arn:aws:s3:::infractl-evidence-123456789012-eu-west-1-test-access-logs"
  }
}

variables {
  name              = "infractl-evidence-123456789012-eu-west-1-test-access-logs"
  source_bucket_arn = "arn:aws:s3:::infractl-evidence-123456789012-eu-west-1-test"
  prefix            = "infractl-evidence-123456789012-eu-west-1-test/"
  tags = {
    environment = "test"
    owner       = "platform"
  }
}

run "defaults" {
  command = apply

  assert {
    condition     = aws_s3_bucket.log.bucket == var.name && aws_s3_bucket.log.force_destroy == false
    error_message = "The access-log bucket must be named var.name and never force-destroyed."
  }

  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.log.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256" &&
      aws_s3_bucket_server_side_encryption_configuration.log.bucket == aws_s3_bucket.log.id &&
      aws_s3_bucket_versioning.log.versioning_configuration[0].status == "Enabled" &&
      aws_s3_bucket_versioning.log.bucket == aws_s3_bucket.log.id
    )
    error_message = "The access-log bucket must use SSE-S3 (the only option for log targets) and versioning."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.log.bucket == aws_s3_bucket.log.id &&
      aws_s3_bucket_public_access_block.log.block_public_acls && aws_s3_bucket_public_access_block.log.block_public_policy &&
      aws_s3_bucket_public_access_block.log.ignore_public_acls && aws_s3_bucket_public_access_block.log.restrict_public_buckets
    )
    error_message = "The access-log bucket must block every kind of public access."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.log.rule[0].object_ownership == "BucketOwnerEnforced" && aws_s3_bucket_ownership_controls.log.bucket == aws_s3_bucket.log.id
    error_message = "The access-log bucket must disable ACLs (BucketOwnerEnforced)."
  }

  assert {
    condition = (
      aws_s3_bucket_lifecycle_configuration.log.bucket == aws_s3_bucket.log.id &&
      length(aws_s3_bucket_lifecycle_configuration.log.rule) == 1 &&
      aws_s3_bucket_lifecycle_configuration.log.rule[0].status == "Enabled" &&
      aws_s3_bucket_lifecycle_configuration.log.rule[0].expiration[0].days == 365 &&
      aws_s3_bucket_lifecycle_configuration.log.rule[0].noncurrent_version_expiration[0].noncurrent_days == 30 &&
      aws_s3_bucket_lifecycle_configuration.log.rule[0].abort_incomplete_multipart_upload[0].days_after_initiation == 7
    )
    error_message = "Access logs must expire after expiration_days (365 by default), their noncurrent versions 30 days later, incomplete uploads after 7."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.log.policy).Statement :
      try(
        s.Effect == "Allow" && s.Principal.Service == "logging.s3.amazonaws.com" && s.Action == "s3:PutObject" &&
        s.Resource == "${aws_s3_bucket.log.arn}/${var.prefix}*" &&
        s.Condition.ArnLike["aws:SourceArn"] == var.source_bucket_arn &&
        s.Condition.StringEquals["aws:SourceAccount"] == "123456789012",
      false)
    ]) && aws_s3_bucket_policy.log.bucket == aws_s3_bucket.log.id
    error_message = "Only the logging service, for the source bucket of this account, may write into the log prefix."
  }

  assert {
    condition     = length([for s in jsondecode(aws_s3_bucket_policy.log.policy).Statement : s if s.Effect == "Allow"]) == 1
    error_message = "The logging service's write must be the policy's only grant."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.log.policy).Statement :
      try(
        s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*" &&
        toset(s.Resource) == toset([aws_s3_bucket.log.arn, "${aws_s3_bucket.log.arn}/*"]) &&
        s.Condition.Bool["aws:SecureTransport"] == "false",
      false)
    ])
    error_message = "The access-log bucket policy must deny every request without TLS."
  }

  assert {
    condition     = lookup(aws_s3_bucket.log.tags, "environment", null) == "test" && lookup(aws_s3_bucket.log.tags, "owner", null) == "platform" && aws_s3_bucket.log.tags["Name"] == var.name
    error_message = "var.tags must be merged onto the bucket, next to a Name tag."
  }

  assert {
    condition     = output.bucket_name == aws_s3_bucket.log.id && output.bucket_arn == aws_s3_bucket.log.arn
    error_message = "Outputs must expose the access-log bucket."
  }
}

run "expiration_days" {
  command = plan

  variables {
    expiration_days = 90
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.log.rule[0].expiration[0].days == 90
    error_message = "expiration_days must reach the lifecycle rule."
  }
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_name_dots" {
  command = plan
  variables {
    name = "logs.example.com"
  }
  expect_failures = [var.name]
}

run "invalid_name_too_long" {
  command = plan
  variables {
    name = "infractl-evidence-123456789012-ap-southeast-2-staging-access-logs"
  }
  expect_failures = [var.name]
}

run "invalid_name_reserved_suffix" {
  command = plan
  variables {
    name = "logs-s3alias"
  }
  expect_failures = [var.name]
}

run "invalid_source_bucket_arn" {
  command = plan
  variables {
    source_bucket_arn = "infractl-evidence-123456789012-eu-west-1-test"
  }
  expect_failures = [var.source_bucket_arn]
}

run "invalid_prefix_without_slash" {
  command = plan
  variables {
    prefix = "infractl-evidence"
  }
  expect_failures = [var.prefix]
}

run "invalid_prefix_leading_slash" {
  command = plan
  variables {
    prefix = "/logs/"
  }
  expect_failures = [var.prefix]
}

run "invalid_expiration_days" {
  command = plan
  variables {
    expiration_days = 0
  }
  expect_failures = [var.expiration_days]
}

run "invalid_tags_aws_prefix" {
  command = plan
  variables {
    tags = { "aws:cloudformation:stack-name" = "x" }
  }
  expect_failures = [var.tags]
}
