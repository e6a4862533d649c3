data "aws_partition" "current" {}

locals {
  repositories = { for image in var.repositories : image => "${var.name_prefix}/${image}" }

  # Expiry rules, evaluated by priority. Release images beyond the newest
  # keep_releases go first; untagged images (superseded builds, interrupted
  # pushes) after untagged_expiry_days. Any other tag (signatures, attestations,
  # SBOMs) is never expired by this policy.
  lifecycle_policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "keep the newest ${var.keep_releases} release images (${join(", ", var.release_tag_prefixes)}*)"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = var.release_tag_prefixes
          countType     = "imageCountMoreThan"
          countNumber   = var.keep_releases
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "expire untagged images ${var.untagged_expiry_days} days after their push"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_expiry_days
        }
        action = { type = "expire" }
      },
    ]
  })

  # Pull only: the three calls a docker/skopeo pull makes. No push, no delete,
  # no listing; each account's own IAM decides which of its principals may.
  pull_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PullByAccounts"
      Effect    = "Allow"
      Principal = { AWS = [for a in var.pull_account_ids : "arn:${data.aws_partition.current.partition}:iam::${a}:root"] }
      Action    = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    }]
  })
}

resource "aws_ecr_repository" "this" {
  for_each = local.repositories

  name = each.value

  # A tag, once pushed, always names the same digest: releases are promoted by
  # digest and never overwritten.
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  # A repository holding images is not deleted: destroy fails until its images
  # are removed on purpose.
  force_delete = false

  tags = merge(var.tags, { Name = each.value })
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each = aws_ecr_repository.this

  repository = each.value.name
  policy     = local.lifecycle_policy
}

resource "aws_ecr_repository_policy" "this" {
  for_each = length(var.pull_account_ids) > 0 ? aws_ecr_repository.this : {}

  repository = each.value.name
  policy     = local.pull_policy
}
