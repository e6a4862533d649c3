# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked: the assertions check the repositories and the
# policies the module decides, not AWS.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/test/image"
      registry_id    = "123456789012"
      repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/test/image"
    }
  }
}

variables {
  name_prefix      = "test"
  repositories     = ["controlplane-api", "controlplane-worker"]
  kms_key_arn      = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  pull_account_ids = ["234567890123"]
  tags = {
    environment = "test"
    owner       = "platform"
  }
}

################################################################################
# Repositories: names, immutable tags, scan on push, CMK, tags
################################################################################

run "repositories" {
  command = apply

  assert {
    condition     = toset([for r in aws_ecr_repository.this : r.name]) == toset(["test/controlplane-api", "test/controlplane-worker"])
    error_message = "Each image must get the repository <name_prefix>/<image>."
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.image_tag_mutability == "IMMUTABLE"])
    error_message = "Tags must be immutable."
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.image_scanning_configuration[0].scan_on_push])
    error_message = "Every push must be scanned."
  }

  assert {
    condition = alltrue([
      for r in aws_ecr_repository.this :
      r.encryption_configuration[0].encryption_type == "KMS" && r.encryption_configuration[0].kms_key == var.kms_key_arn
    ])
    error_message = "Images must be encrypted with the given customer-managed key."
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : !r.force_delete])
    error_message = "A repository holding images must not be deleted with them."
  }

  assert {
    condition     = alltrue([for k, r in aws_ecr_repository.this : r.tags["environment"] == "test" && r.tags["owner"] == "platform" && r.tags["Name"] == "test/${k}"])
    error_message = "var.tags must be merged onto every repository next to a Name tag <name_prefix>/<image>."
  }

  assert {
    condition = (
      keys(output.repository_urls) == ["controlplane-api", "controlplane-worker"] &&
      alltrue([for k, url in output.repository_urls : url == aws_ecr_repository.this[k].repository_url]) &&
      alltrue([for k, arn in output.repository_arns : arn == aws_ecr_repository.this[k].arn]) &&
      output.repository_names == { controlplane-api = "test/controlplane-api", controlplane-worker = "test/controlplane-worker" } &&
      output.registry_id == "123456789012"
    )
    error_message = "The outputs must map each image name to its repository, and give the registry ID."
  }
}

################################################################################
# Lifecycle policy
################################################################################

run "lifecycle_policy_defaults" {
  command = plan

  assert {
    condition     = length(aws_ecr_lifecycle_policy.this) == 2 && alltrue([for k, p in aws_ecr_lifecycle_policy.this : p.repository == "test/${k}"])
    error_message = "Every repository must get a lifecycle policy."
  }

  assert {
    condition = jsondecode(aws_ecr_lifecycle_policy.this["controlplane-api"].policy).rules[0] == {
      rulePriority = 1
      description  = "keep the newest 30 release images (v*)"
      selection    = { tagStatus = "tagged", tagPrefixList = ["v"], countType = "imageCountMoreThan", countNumber = 30 }
      action       = { type = "expire" }
    }
    error_message = "By default the newest 30 release images (tags v*) must be kept and older ones expired."
  }

  assert {
    condition = jsondecode(aws_ecr_lifecycle_policy.this["controlplane-api"].policy).rules[1] == {
      rulePriority = 2
      description  = "expire untagged images 14 days after their push"
      selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 14 }
      action       = { type = "expire" }
    }
    error_message = "By default untagged images must expire 14 days after their push."
  }

  assert {
    condition     = length([for r in jsondecode(aws_ecr_lifecycle_policy.this["controlplane-api"].policy).rules : r if r.selection.tagStatus == "any"]) == 0
    error_message = "No rule may expire images whatever their tags (signatures, attestations)."
  }
}

run "lifecycle_policy_from_inputs" {
  command = plan

  variables {
    untagged_expiry_days = 3
    keep_releases        = 100
    release_tag_prefixes = ["v", "release-"]
  }

  assert {
    condition = (
      jsondecode(aws_ecr_lifecycle_policy.this["controlplane-worker"].policy).rules[0].selection.countNumber == 100 &&
      jsondecode(aws_ecr_lifecycle_policy.this["controlplane-worker"].policy).rules[0].selection.tagPrefixList == ["v", "release-"] &&
      jsondecode(aws_ecr_lifecycle_policy.this["controlplane-worker"].policy).rules[1].selection.countNumber == 3
    )
    error_message = "keep_releases, release_tag_prefixes and untagged_expiry_days must reach the lifecycle policy."
  }
}

################################################################################
# Repository policy: the next stage pulls, nothing else
################################################################################

run "pull_policy" {
  command = plan

  variables {
    pull_account_ids = ["234567890123", "345678901234"]
  }

  assert {
    condition     = length(aws_ecr_repository_policy.this) == 2 && alltrue([for k, p in aws_ecr_repository_policy.this : p.repository == "test/${k}"])
    error_message = "Every repository must get the pull policy."
  }

  assert {
    condition = jsondecode(aws_ecr_repository_policy.this["controlplane-api"].policy) == {
      Version = "2012-10-17"
      Statement = [{
        Sid       = "PullByAccounts"
        Effect    = "Allow"
        Principal = { AWS = ["arn:aws:iam::234567890123:root", "arn:aws:iam::345678901234:root"] }
        Action    = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      }]
    }
    error_message = "The repository policy must allow exactly the listed accounts the three pull calls."
  }
}

run "no_pull_accounts_no_policy" {
  command = plan

  variables {
    pull_account_ids = []
  }

  assert {
    condition     = length(aws_ecr_repository_policy.this) == 0
    error_message = "Without pull accounts there must be no repository policy."
  }
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_repositories_empty" {
  command = plan
  variables {
    repositories = []
  }
  expect_failures = [var.repositories]
}

run "invalid_repositories_duplicate" {
  command = plan
  variables {
    repositories = ["api", "api"]
  }
  expect_failures = [var.repositories]
}

run "invalid_repository_name" {
  command = plan
  variables {
    repositories = ["Controlplane_API"]
  }
  expect_failures = [var.repositories]
}

run "invalid_kms_key_alias" {
  command = plan
  variables {
    kms_key_arn = "alias/registry"
  }
  expect_failures = [var.kms_key_arn]
}

run "invalid_untagged_expiry_zero" {
  command = plan
  variables {
    untagged_expiry_days = 0
  }
  expect_failures = [var.untagged_expiry_days]
}

run "invalid_keep_releases_fraction" {
  command = plan
  variables {
    keep_releases = 2.5
  }
  expect_failures = [var.keep_releases]
}

run "invalid_release_tag_prefix" {
  command = plan
  variables {
    release_tag_prefixes = ["-v"]
  }
  expect_failures = [var.release_tag_prefixes]
}

run "invalid_pull_account" {
  command = plan
  variables {
    pull_account_ids = ["*"]
  }
  expect_failures = [var.pull_account_ids]
}

run "invalid_name_prefix" {
  command = plan
  variables {
    name_prefix = "Dev_"
  }
  expect_failures = [var.name_prefix]
}
