# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked: the assertions check the keys, aliases and key
# policies the module decides, not AWS.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }

  mock_resource "aws_kms_alias" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:alias/test"
    }
  }
}

variables {
  name = "test"
  keys = {
    logs = {
      description        = "CloudWatch log groups"
      service_principals = ["logs.eu-west-1.amazonaws.com"]
    }
    database = {
      description  = "RDS storage"
      via_services = ["rds.eu-west-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com"]
    }
    plain = {
      description = "IAM-governed key"
    }
    app = {
      description        = "Application data"
      usage_role_arns    = ["arn:aws:iam::123456789012:role/app"]
      service_principals = ["sns.amazonaws.com"]
    }
  }
  tags = {
    environment = "test"
    owner       = "platform"
  }
}

################################################################################
# Keys, rotation, aliases, tags
################################################################################

run "keys_and_aliases" {
  command = apply

  assert {
    condition     = length(aws_kms_key.this) == 4 && alltrue([for k in aws_kms_key.this : k.enable_key_rotation])
    error_message = "Every key must be created with automatic rotation on."
  }

  assert {
    condition = alltrue([
      for k in aws_kms_key.this :
      k.key_usage == "ENCRYPT_DECRYPT" && k.customer_master_key_spec == "SYMMETRIC_DEFAULT" && k.is_enabled && !k.multi_region && k.deletion_window_in_days == 30 && !k.bypass_policy_lockout_safety_check
    ])
    error_message = "Keys must be enabled, single-region symmetric encryption keys with the default 30-day deletion window and the lockout safety check on."
  }

  assert {
    condition     = aws_kms_key.this["logs"].description == "CloudWatch log groups" && aws_kms_key.this["plain"].description == "IAM-governed key"
    error_message = "Each key must carry its description."
  }

  assert {
    condition = (
      length(aws_kms_alias.this) == 4 &&
      alltrue([for k, a in aws_kms_alias.this : a.name == "alias/test-${k}" && a.target_key_id == aws_kms_key.this[k].key_id])
    )
    error_message = "Each key must have the alias alias/<name>-<key> pointing at it."
  }

  assert {
    condition     = output.alias_names == { app = "alias/test-app", database = "alias/test-database", logs = "alias/test-logs", plain = "alias/test-plain" }
    error_message = "alias_names must map each key name to its alias."
  }

  assert {
    condition = (
      keys(output.key_arns) == ["app", "database", "logs", "plain"] &&
      alltrue([for k, arn in output.key_arns : arn == aws_kms_key.this[k].arn]) &&
      alltrue([for k, id in output.key_ids : id == aws_kms_key.this[k].key_id]) &&
      alltrue([for k, arn in output.alias_arns : arn == aws_kms_alias.this[k].arn])
    )
    error_message = "key_arns, key_ids and alias_arns must map each key name to its key."
  }

  assert {
    condition     = alltrue([for k, key in aws_kms_key.this : key.tags["environment"] == "test" && key.tags["owner"] == "platform" && key.tags["Name"] == "test-${k}"])
    error_message = "var.tags must be merged onto every key next to a Name tag <name>-<key>."
  }

  assert {
    condition     = alltrue([for k, key in aws_kms_key.this : jsondecode(key.policy).Version == "2012-10-17" && jsondecode(key.policy).Id == "test-${k}"])
    error_message = "Every key policy must be a 2012-10-17 policy named after the key."
  }
}

################################################################################
# Key policies
################################################################################

run "key_policies" {
  command = plan

  # No principal anywhere is "*" or another account.
  assert {
    condition = alltrue(flatten([
      for key in aws_kms_key.this : [
        for s in jsondecode(key.policy).Statement :
        s.Effect == "Allow" && s.Resource == "*" &&
        (can(regex("\\.amazonaws\\.com", s.Principal.Service)) || length(flatten([try(s.Principal.AWS, [])])) > 0) &&
        alltrue([for p in flatten([try(s.Principal.AWS, [])]) : can(regex("^arn:aws:iam::123456789012:", p))])
      ]
    ]))
    error_message = "Key policies may only allow this account's root, its roles or service principals; never \"*\"."
  }

  # CloudWatch Logs is allowed on the logs key only, and only for this account's log groups.
  assert {
    condition = (
      length([for s in jsondecode(aws_kms_key.this["logs"].policy).Statement : s if can(s.Principal.Service)]) == 1 &&
      one([for s in jsondecode(aws_kms_key.this["logs"].policy).Statement : s.Principal.Service if can(s.Principal.Service)]) == "logs.eu-west-1.amazonaws.com" &&
      one([for s in jsondecode(aws_kms_key.this["logs"].policy).Statement : s.Condition if can(s.Principal.Service)]) == {
        ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:eu-west-1:123456789012:log-group:*" }
      }
    )
    error_message = "The logs key must allow logs.eu-west-1.amazonaws.com only for log groups of account 123456789012 (encryption-context condition)."
  }

  assert {
    condition = toset(one([for s in jsondecode(aws_kms_key.this["logs"].policy).Statement : s.Action if can(s.Principal.Service)])) == toset(
      ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    )
    error_message = "The CloudWatch Logs statement must use the documented action list."
  }

  assert {
    condition = alltrue(flatten([
      for k in ["database", "plain", "app"] : [
        for s in jsondecode(aws_kms_key.this[k].policy).Statement : !can(regex("^logs\\.", s.Principal.Service))
      ]
    ]))
    error_message = "Only keys that list the CloudWatch Logs principal may grant it anything."
  }

  # A plain key holds exactly the standard IAM delegation statement.
  assert {
    condition = (
      length(jsondecode(aws_kms_key.this["plain"].policy).Statement) == 1 &&
      jsondecode(aws_kms_key.this["plain"].policy).Statement[0].Sid == "EnableIAMUserPermissions" &&
      jsondecode(aws_kms_key.this["plain"].policy).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root" &&
      jsondecode(aws_kms_key.this["plain"].policy).Statement[0].Action == "kms:*"
    )
    error_message = "A key without principals must only delegate to the account's IAM policies."
  }

  # via_services: administration through IAM, use only through the listed services.
  assert {
    condition = (
      length([for s in jsondecode(aws_kms_key.this["database"].policy).Statement : s if s.Action == "kms:*"]) == 0 &&
      toset([for s in jsondecode(aws_kms_key.this["database"].policy).Statement : s.Sid]) == toset(["KeyAdministrationThroughIam", "UseThroughAwsServicesOnly", "CreateGrantsThroughAwsServicesOnly"])
    )
    error_message = "A key with via_services must not grant kms:* to the account."
  }

  assert {
    condition = length(setintersection(
      toset(one([for s in jsondecode(aws_kms_key.this["database"].policy).Statement : s.Action if s.Sid == "KeyAdministrationThroughIam"])),
      toset(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:CreateGrant", "kms:*"])
    )) == 0
    error_message = "Key administration must not include cryptographic use or grant creation."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.this["database"].policy).Statement :
      s.Condition.StringEquals["kms:ViaService"] == ["rds.eu-west-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com"] &&
      s.Condition.StringEquals["kms:CallerAccount"] == "123456789012"
      if s.Sid != "KeyAdministrationThroughIam"
    ])
    error_message = "Use of a via_services key must be limited to the listed services and this account."
  }

  assert {
    condition     = one([for s in jsondecode(aws_kms_key.this["database"].policy).Statement : s.Condition.Bool["kms:GrantIsForAWSResource"] if s.Action == "kms:CreateGrant"]) == "true"
    error_message = "Grants through a via service must be for AWS resources only."
  }

  # Roles and other services.
  assert {
    condition = (
      one([for s in jsondecode(aws_kms_key.this["app"].policy).Statement : s.Principal.AWS if s.Sid == "UseByRoles"]) == ["arn:aws:iam::123456789012:role/app"] &&
      one([for s in jsondecode(aws_kms_key.this["app"].policy).Statement : s.Condition.Bool["kms:GrantIsForAWSResource"] if s.Sid == "GrantsForAwsResourcesByRoles"]) == "true"
    )
    error_message = "usage_role_arns must get key use and AWS-resource grants only."
  }

  assert {
    condition = (
      one([for s in jsondecode(aws_kms_key.this["app"].policy).Statement : s.Condition if can(s.Principal.Service)]) == { StringEquals = { "aws:SourceAccount" = "123456789012" } } &&
      one([for s in jsondecode(aws_kms_key.this["app"].policy).Statement : s.Principal.Service if can(s.Principal.Service)]) == "sns.amazonaws.com"
    )
    error_message = "A non-logs service principal must be limited to this account with aws:SourceAccount."
  }
}

run "logs_principal_other_region_and_partition" {
  command = plan

  variables {
    keys = {
      logs = {
        description        = "logs in two regions"
        service_principals = ["logs.eu-central-1.amazonaws.com", "logs.cn-north-1.amazonaws.com.cn"]
      }
    }
  }

  assert {
    condition = toset([
      for s in jsondecode(aws_kms_key.this["logs"].policy).Statement : s.Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"] if can(s.Principal.Service)
      ]) == toset([
      "arn:aws:logs:eu-central-1:123456789012:log-group:*",
      "arn:aws:logs:cn-north-1:123456789012:log-group:*",
    ])
    error_message = "Each CloudWatch Logs principal must be scoped to log groups of its own region."
  }
}

################################################################################
# Deletion window
################################################################################

run "deletion_window_minimum" {
  command = plan

  variables {
    deletion_window_days = 7
  }

  assert {
    condition     = alltrue([for k in aws_kms_key.this : k.deletion_window_in_days == 7])
    error_message = "deletion_window_days must reach every key."
  }
}

run "invalid_deletion_window_too_short" {
  command = plan
  variables {
    deletion_window_days = 6
  }
  expect_failures = [var.deletion_window_days]
}

run "invalid_deletion_window_too_long" {
  command = plan
  variables {
    deletion_window_days = 31
  }
  expect_failures = [var.deletion_window_days]
}

run "invalid_deletion_window_fraction" {
  command = plan
  variables {
    deletion_window_days = 10.5
  }
  expect_failures = [var.deletion_window_days]
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_keys_empty" {
  command = plan
  variables {
    keys = {}
  }
  expect_failures = [var.keys]
}

run "invalid_key_name" {
  command = plan
  variables {
    keys = { "Logs_Key" = { description = "x" } }
  }
  expect_failures = [var.keys]
}

run "invalid_key_description_empty" {
  command = plan
  variables {
    keys = { logs = { description = " " } }
  }
  expect_failures = [var.keys]
}

run "invalid_service_principal" {
  command = plan
  variables {
    keys = { logs = { description = "x", service_principals = ["*"] } }
  }
  expect_failures = [var.keys]
}

run "invalid_usage_role_arn_wildcard" {
  command = plan
  variables {
    keys = { app = { description = "x", usage_role_arns = ["arn:aws:iam::123456789012:root"] } }
  }
  expect_failures = [var.keys]
}

run "invalid_via_service" {
  command = plan
  variables {
    keys = { database = { description = "x", via_services = ["rds.amazonaws.com"] } }
  }
  expect_failures = [var.keys]
}

run "invalid_name_uppercase" {
  command = plan
  variables {
    name = "Bad_Name"
  }
  expect_failures = [var.name]
}

run "invalid_tags_aws_prefix" {
  command = plan
  variables {
    tags = { "aws:cloudformation:stack-name" = "x" }
  }
  expect_failures = [var.tags]
}
