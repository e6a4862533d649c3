data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  root_arn   = "arn:${local.partition}:iam::${local.account_id}:root"

  # Key administration without any cryptographic use (AWS's "key administrators"
  # statement, minus kms:CreateGrant, which would let an administrator grant
  # itself decryption).
  admin_actions = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]

  # Symmetric encryption and data keys (AWS's "key users" statement).
  usage_actions = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
  ]

  # The CloudWatch Logs statement of the AWS documentation ("Encrypt log data in
  # CloudWatch Logs using AWS KMS"), with its action list as published.
  logs_actions = [
    "kms:Decrypt*",
    "kms:Describe*",
    "kms:Encrypt*",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
  ]

  # logs.<region>.amazonaws.com[.cn]: capture group 0 is the region.
  logs_principal_pattern = "^logs\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?$"

  # One list of statements per key. Each group is a `for ... if` filter rather
  # than a conditional, because its statements have different object shapes.
  # In a key policy, Resource "*" means "this key": it is the only value KMS accepts.
  statements = {
    for name, key in var.keys : name => concat(
      # The standard statement: without the account root the key could become
      # unmanageable. It delegates to IAM, so IAM policies decide which of the
      # account's roles may use the key.
      [for s in [{
        Sid       = "EnableIAMUserPermissions"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action    = "kms:*"
        Resource  = "*"
      }] : s if length(key.via_services) == 0],

      # With via_services, IAM keeps administration only, and the account's
      # principals may use the key only through those services: the pattern of
      # the AWS-managed service keys (e.g. aws/rds).
      [for s in [{
        Sid       = "KeyAdministrationThroughIam"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action    = local.admin_actions
        Resource  = "*"
        }, {
        Sid       = "UseThroughAwsServicesOnly"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action    = local.usage_actions
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:CallerAccount" = local.account_id
            "kms:ViaService"    = key.via_services
          }
        }
        }, {
        Sid       = "CreateGrantsThroughAwsServicesOnly"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action    = "kms:CreateGrant"
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:CallerAccount" = local.account_id
            "kms:ViaService"    = key.via_services
          }
          Bool = { "kms:GrantIsForAWSResource" = "true" }
        }
      }] : s if length(key.via_services) > 0],

      # Named roles: direct use, and grants only for AWS resources.
      [for s in [{
        Sid       = "UseByRoles"
        Effect    = "Allow"
        Principal = { AWS = key.usage_role_arns }
        Action    = local.usage_actions
        Resource  = "*"
        }, {
        Sid       = "GrantsForAwsResourcesByRoles"
        Effect    = "Allow"
        Principal = { AWS = key.usage_role_arns }
        Action    = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
        Resource  = "*"
        Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
      }] : s if length(key.usage_role_arns) > 0],

      # CloudWatch Logs: only for log groups of this account in the principal's region.
      [for principal in key.service_principals : {
        Sid       = "UseByService ${principal}"
        Effect    = "Allow"
        Principal = { Service = principal }
        Action    = local.logs_actions
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${regex(local.logs_principal_pattern, principal)[0]}:${local.account_id}:log-group:*"
          }
        }
      } if can(regex(local.logs_principal_pattern, principal))],

      # Any other service: only while it acts for this account (confused deputy guard).
      [for principal in key.service_principals : {
        Sid       = "UseByService ${principal}"
        Effect    = "Allow"
        Principal = { Service = principal }
        Action    = local.usage_actions
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      } if !can(regex(local.logs_principal_pattern, principal))],
    )
  }
}

resource "aws_kms_key" "this" {
  for_each = var.keys

  description              = each.value.description
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  multi_region             = false
  is_enabled               = true
  deletion_window_in_days  = var.deletion_window_days

  # KMS refuses a policy that would lock the caller out of the key.
  bypass_policy_lockout_safety_check = false

  # Yearly automatic rotation (the AWS default period); rotation_period_in_days
  # is left unset on purpose.
  enable_key_rotation = true

  policy = jsonencode({
    Version   = "2012-10-17"
    Id        = "${var.name}-${each.key}"
    Statement = local.statements[each.key]
  })

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_kms_alias" "this" {
  for_each = var.keys

  name          = "alias/${var.name}-${each.key}"
  target_key_id = aws_kms_key.this[each.key].key_id
}
