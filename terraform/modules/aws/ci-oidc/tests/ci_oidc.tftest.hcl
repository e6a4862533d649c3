# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked; the assertions check who may assume each role
# (exact repository and sub claim, audience) and what each role may do.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
  }
}

override_resource {
  target = aws_iam_role.plan
  values = {
    arn = "arn:aws:iam::123456789012:role/test-github-plan"
  }
}

override_resource {
  target = aws_iam_role.apply
  values = {
    arn = "arn:aws:iam::123456789012:role/test-github-apply"
  }
}

variables {
  name                 = "test"
  github_repository    = "example-org/control-plane"
  github_environment   = "test"
  state_bucket         = "infractl-state-123456789012-test"
  state_key_prefix     = "test/"
  state_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  evidence_bucket_arn  = "arn:aws:s3:::infractl-evidence-123456789012-eu-west-1-test"
  evidence_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000"
  tags = {
    environment = "test"
    owner       = "platform"
  }
}

run "roles_and_trust" {
  command = apply

  # OIDC provider
  assert {
    condition = (
      aws_iam_openid_connect_provider.github.url == "https://token.actions.githubusercontent.com" &&
      tolist(aws_iam_openid_connect_provider.github.client_id_list) == tolist(["sts.amazonaws.com"]) &&
      length(aws_iam_openid_connect_provider.github.thumbprint_list) >= 1 &&
      alltrue([for t in aws_iam_openid_connect_provider.github.thumbprint_list : can(regex("^[0-9a-f]{40}$", t))])
    )
    error_message = "The OIDC provider must be GitHub's issuer with the STS audience and SHA-1 thumbprints."
  }

  # Plan role trust
  assert {
    condition = (
      length(jsondecode(aws_iam_role.plan.assume_role_policy).Statement) == 1 &&
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Effect == "Allow" &&
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity" &&
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Principal.Federated == aws_iam_openid_connect_provider.github.arn
    )
    error_message = "Only web identities of the GitHub OIDC provider may assume the plan role."
  }

  assert {
    condition     = jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/control-plane:pull_request"
    error_message = "The plan role must be pinned to pull requests of the repository."
  }

  assert {
    condition     = jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    error_message = "The plan role must require the sts.amazonaws.com audience."
  }

  # Apply role trust
  assert {
    condition = (
      length(jsondecode(aws_iam_role.apply.assume_role_policy).Statement) == 1 &&
      jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Effect == "Allow" &&
      jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity" &&
      jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Principal.Federated == aws_iam_openid_connect_provider.github.arn
    )
    error_message = "Only web identities of the GitHub OIDC provider may assume the apply role."
  }

  assert {
    condition     = jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/control-plane:environment:test"
    error_message = "The apply role must be pinned to the protected GitHub environment of the repository."
  }

  assert {
    condition     = jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    error_message = "The apply role must require the sts.amazonaws.com audience."
  }

  # No wildcard subjects anywhere: exact StringEquals only, no * or ? in the values.
  assert {
    condition = alltrue([
      for p in [aws_iam_role.plan.assume_role_policy, aws_iam_role.apply.assume_role_policy] :
      keys(jsondecode(p).Statement[0].Condition) == ["StringEquals"] &&
      alltrue([for k, v in jsondecode(p).Statement[0].Condition.StringEquals : !strcontains(v, "*") && !strcontains(v, "?")])
    ])
    error_message = "The trust policies must match sub and aud exactly (StringEquals, no wildcards)."
  }

  assert {
    condition     = aws_iam_role.plan.max_session_duration == 3600 && aws_iam_role.apply.max_session_duration == 3600
    error_message = "Sessions of both roles must be limited to one hour."
  }

  # Plan role permissions
  assert {
    condition     = aws_iam_role_policy_attachment.plan_read_only.role == aws_iam_role.plan.name && aws_iam_role_policy_attachment.plan_read_only.policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    error_message = "The plan role must have ReadOnlyAccess."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.plan_state.policy).Statement :
      try(s.Action == "s3:ListBucket" && s.Resource == "arn:aws:s3:::infractl-state-123456789012-test" && s.Condition.StringLike["s3:prefix"] == ["test/*"], false)
      ]) && anytrue([
      for s in jsondecode(aws_iam_role_policy.plan_state.policy).Statement :
      try(s.Action == "s3:GetObject" && s.Resource == "arn:aws:s3:::infractl-state-123456789012-test/test/*", false)
    ])
    error_message = "The plan role may list and read state under the environment prefix only."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.plan_state.policy).Statement : s.Resource
      if contains(flatten([s.Action]), "s3:PutObject") || contains(flatten([s.Action]), "s3:DeleteObject")
    ] == ["arn:aws:s3:::infractl-state-123456789012-test/test/*.tflock"]
    error_message = "The plan role may write and delete nothing but the environment's .tflock lock files."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.plan_state.policy).Statement :
      try(
        toset(s.Action) == toset(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]) && s.Resource == var.state_kms_key_arn &&
        s.Condition.StringEquals["kms:ViaService"] == "s3.eu-west-1.amazonaws.com",
      false)
    ])
    error_message = "The plan role may use the state key, through S3 only."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.plan_state.policy).Statement :
      s.Effect == "Allow" && alltrue([for r in flatten([s.Resource]) : r != "*" && !startswith(r, "arn:aws:s3:::*")])
    ])
    error_message = "The plan role's inline policy must name its resources."
  }

  # Apply role permissions
  assert {
    condition     = aws_iam_role_policy_attachment.apply_admin.role == aws_iam_role.apply.name && aws_iam_role_policy_attachment.apply_admin.policy_arn == "arn:aws:iam::aws:policy/AdministratorAccess"
    error_message = "The apply role must have AdministratorAccess."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.apply_evidence.policy).Statement :
      try(
        s.Effect == "Deny" &&
        toset(s.Action) == toset(["s3:DeleteBucket", "s3:PutBucketObjectLockConfiguration", "s3:BypassGovernanceRetention"]) &&
        toset(s.Resource) == toset([var.evidence_bucket_arn, "${var.evidence_bucket_arn}/*"]) &&
        !can(s.Condition),
      false)
    ])
    error_message = "The apply role must be unconditionally denied deleting the evidence bucket or changing/bypassing its retention."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.apply_evidence.policy).Statement :
      try(s.Effect == "Deny" && toset(s.Action) == toset(["kms:ScheduleKeyDeletion", "kms:DisableKey"]) && s.Resource == var.evidence_kms_key_arn, false)
    ])
    error_message = "The apply role must not be able to delete or disable the evidence key."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.apply_evidence.policy).Statement :
      try(s.Effect == "Allow" && s.Action == "s3:PutObject" && s.Resource == "${var.evidence_bucket_arn}/*", false)
      ]) && anytrue([
      for s in jsondecode(aws_iam_role_policy.apply_evidence.policy).Statement :
      try(s.Effect == "Allow" && contains(s.Action, "kms:GenerateDataKey") && s.Resource == var.evidence_kms_key_arn && s.Condition.StringEquals["kms:ViaService"] == "s3.eu-west-1.amazonaws.com", false)
    ])
    error_message = "The apply role must be able to publish evidence with the evidence key."
  }

  assert {
    condition     = aws_iam_role.plan.name == "test-github-plan" && aws_iam_role.apply.name == "test-github-apply"
    error_message = "Roles must be named <name>-github-plan and <name>-github-apply."
  }

  assert {
    condition = alltrue([
      for t in [aws_iam_openid_connect_provider.github.tags, aws_iam_role.plan.tags, aws_iam_role.apply.tags] :
      lookup(t, "environment", null) == "test" && lookup(t, "owner", null) == "platform" && lookup(t, "Name", "") != ""
    ])
    error_message = "var.tags must be merged onto every taggable resource, next to a Name tag."
  }

  assert {
    condition     = output.oidc_provider_arn == aws_iam_openid_connect_provider.github.arn && output.plan_role_arn == aws_iam_role.plan.arn && output.apply_role_arn == aws_iam_role.apply.arn
    error_message = "Outputs must expose the provider and both roles."
  }
}

run "other_repository_and_environment" {
  command = plan

  variables {
    github_repository  = "Other-Org/infra.repo_2"
    github_environment = "production"
    state_key_prefix   = "prod/"
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:Other-Org/infra.repo_2:pull_request" &&
      jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:Other-Org/infra.repo_2:environment:production"
    )
    error_message = "The subjects must follow github_repository and github_environment."
  }
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_repository_wildcard" {
  command = plan
  variables {
    github_repository = "example-org/*"
  }
  expect_failures = [var.github_repository]
}

run "invalid_repository_owner_only" {
  command = plan
  variables {
    github_repository = "example-org"
  }
  expect_failures = [var.github_repository]
}

run "invalid_repository_url" {
  command = plan
  variables {
    github_repository = "https://github.com/example-org/control-plane"
  }
  expect_failures = [var.github_repository]
}

run "invalid_repository_extra_segment" {
  command = plan
  variables {
    github_repository = "example-org/control-plane/main"
  }
  expect_failures = [var.github_repository]
}

run "invalid_repository_dotdot" {
  command = plan
  variables {
    github_repository = "example-org/.."
  }
  expect_failures = [var.github_repository]
}

run "invalid_repository_subject_injection" {
  command = plan
  variables {
    github_repository = "example-org/control-plane:ref:refs/heads/main"
  }
  expect_failures = [var.github_repository]
}

run "invalid_github_environment_wildcard" {
  command = plan
  variables {
    github_environment = "*"
  }
  expect_failures = [var.github_environment]
}

run "invalid_state_key_prefix_wildcard" {
  command = plan
  variables {
    state_key_prefix = "*"
  }
  expect_failures = [var.state_key_prefix]
}

run "invalid_state_key_prefix_no_slash" {
  command = plan
  variables {
    state_key_prefix = "test"
  }
  expect_failures = [var.state_key_prefix]
}

run "invalid_state_bucket" {
  command = plan
  variables {
    state_bucket = "Infractl_State"
  }
  expect_failures = [var.state_bucket]
}

run "invalid_state_kms_key_alias" {
  command = plan
  variables {
    state_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/test-state"
  }
  expect_failures = [var.state_kms_key_arn]
}

run "invalid_evidence_bucket_arn" {
  command = plan
  variables {
    evidence_bucket_arn = "infractl-evidence-123456789012-eu-west-1-test"
  }
  expect_failures = [var.evidence_bucket_arn]
}

run "invalid_evidence_kms_key_alias" {
  command = plan
  variables {
    evidence_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/test-evidence"
  }
  expect_failures = [var.evidence_kms_key_arn]
}

run "invalid_name_uppercase" {
  command = plan
  variables {
    name = "Test"
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
