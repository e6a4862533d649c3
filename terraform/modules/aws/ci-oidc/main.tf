data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition

  github_issuer = "token.actions.githubusercontent.com"

  # The only sub claims accepted (GitHub's default claim format, exact match):
  # pull requests of the repository for plan, jobs bound to the protected
  # GitHub environment (required reviewers) for apply.
  plan_subject  = "repo:${var.github_repository}:pull_request"
  apply_subject = "repo:${var.github_repository}:environment:${var.github_environment}"

  state_bucket_arn = "arn:${local.partition}:s3:::${var.state_bucket}"
  # S3 SSE-KMS needs a key in the bucket's region: the key ARN tells it.
  state_region    = split(":", var.state_kms_key_arn)[3]
  evidence_region = split(":", var.evidence_kms_key_arn)[3]
}

################################################################################
# GitHub Actions OIDC identity provider (one per account)
################################################################################

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://${local.github_issuer}"
  client_id_list = ["sts.amazonaws.com"]

  # GitHub's published intermediate-certificate thumbprints. AWS no longer
  # uses them for GitHub (it validates the issuer against its own trusted CA
  # library), but the API still requires the list.
  thumbprint_list = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
  ]

  tags = merge(var.tags, { Name = "github-actions" })
}

################################################################################
# Plan role: pull requests, read-only plus state locking
################################################################################

resource "aws_iam_role" "plan" {
  name                 = "${var.name}-github-plan"
  description          = "terraform plan from pull requests of ${var.github_repository} (read-only, state lock files)."
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubPullRequests"
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.github.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.github_issuer}:aud" = "sts.amazonaws.com"
          "${local.github_issuer}:sub" = local.plan_subject
        }
      }
    }]
  })

  tags = merge(var.tags, { Name = "${var.name}-github-plan" })
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "plan_state" {
  name = "terraform-state"
  role = aws_iam_role.plan.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "ListEnvironmentState"
        Effect    = "Allow"
        Action    = "s3:ListBucket"
        Resource  = local.state_bucket_arn
        Condition = { StringLike = { "s3:prefix" = ["${var.state_key_prefix}*"] } }
      },
      {
        Sid      = "ReadEnvironmentState"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${local.state_bucket_arn}/${var.state_key_prefix}*"
      },
      {
        # Terraform's S3-native locking (use_lockfile): create and remove
        # "<key>.tflock" next to each state object. State itself stays read-only.
        Sid      = "WriteEnvironmentStateLocks"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:DeleteObject"]
        Resource = "${local.state_bucket_arn}/${var.state_key_prefix}*.tflock"
      },
      {
        # The state bucket uses an S3 Bucket Key: the encryption context is the
        # bucket ARN (object ARNs without a Bucket Key).
        Sid      = "UseStateKeyThroughS3"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        Resource = var.state_kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.state_region}.amazonaws.com" }
          StringLike   = { "kms:EncryptionContext:aws:s3:arn" = [local.state_bucket_arn, "${local.state_bucket_arn}/${var.state_key_prefix}*"] }
        }
      },
    ]
  })
}

################################################################################
# Apply role: the protected GitHub environment only
################################################################################

resource "aws_iam_role" "apply" {
  name                 = "${var.name}-github-apply"
  description          = "terraform apply from the ${var.github_environment} environment of ${var.github_repository}."
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubProtectedEnvironment"
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.github.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.github_issuer}:aud" = "sts.amazonaws.com"
          "${local.github_issuer}:sub" = local.apply_subject
        }
      }
    }]
  })

  tags = merge(var.tags, { Name = "${var.name}-github-apply" })
}

# Infrastructure apply creates and changes IAM, networking, clusters and data
# stores across every stack, so it needs administrator rights. The role is
# reachable only from jobs of the protected GitHub environment (required
# reviewers), for at most an hour; the inline policy below carves out the
# evidence trail.
resource "aws_iam_role_policy_attachment" "apply_admin" {
  #checkov:skip=CKV_AWS_274:the apply role creates IAM, networks, clusters and databases in every stack; only jobs of the protected GitHub environment (required reviewers) can assume it, for at most an hour, and an inline deny guards the evidence trail
  role       = aws_iam_role.apply.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AdministratorAccess"
}

resource "aws_iam_role_policy" "apply_evidence" {
  name = "evidence-guard"
  role = aws_iam_role.apply.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # An explicit deny wins over AdministratorAccess: CI can neither delete
        # the WORM bucket nor weaken or bypass its retention. Changing the
        # retention is a break-glass operation outside CI.
        Sid      = "DenyEvidenceDestruction"
        Effect   = "Deny"
        Action   = ["s3:DeleteBucket", "s3:PutBucketObjectLockConfiguration", "s3:BypassGovernanceRetention"]
        Resource = [var.evidence_bucket_arn, "${var.evidence_bucket_arn}/*"]
      },
      {
        # Without its key the evidence is unreadable: deleting or disabling it
        # would destroy the evidence as surely as deleting the bucket.
        Sid      = "DenyEvidenceKeyDestruction"
        Effect   = "Deny"
        Action   = ["kms:ScheduleKeyDeletion", "kms:DisableKey"]
        Resource = var.evidence_kms_key_arn
      },
      {
        # CI publishes release evidence (plans, SBOMs, test reports).
        Sid      = "PublishEvidence"
        Effect   = "Allow"
        Action   = "s3:PutObject"
        Resource = "${var.evidence_bucket_arn}/*"
      },
      {
        Sid      = "EncryptEvidenceThroughS3"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = var.evidence_kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.evidence_region}.amazonaws.com" }
          StringLike   = { "kms:EncryptionContext:aws:s3:arn" = [var.evidence_bucket_arn, "${var.evidence_bucket_arn}/*"] }
        }
      },
    ]
  })
}
