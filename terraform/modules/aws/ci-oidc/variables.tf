variable "name" {
  description = "Name prefix of the IAM roles (<name>-github-plan, <name>-github-apply), e.g. the environment name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "github_repository" {
  description = "GitHub repository allowed to assume the roles, as \"owner/repo\" (no wildcards). It is pinned in the token's sub claim: pull requests for the plan role, the GitHub environment github_environment for the apply role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.github_repository)) && !contains([".", ".."], try(split("/", var.github_repository)[1], ""))
    error_message = "The github_repository must be \"owner/repo\": an owner of 1-39 letters, digits or hyphens and a repository of letters, digits, \".\", \"_\" or \"-\" (no wildcards, no extra \"/\")."
  }
}

variable "github_environment" {
  description = "GitHub environment (with required reviewers) whose jobs may assume the apply role, e.g. the environment name. 1-255 letters, digits, \".\", \"_\" or \"-\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,255}$", var.github_environment))
    error_message = "The github_environment must be 1-255 letters, digits, \".\", \"_\" or \"-\" (no wildcards or \":\")."
  }
}

variable "state_bucket" {
  description = "Name of the Terraform remote-state bucket the plan role reads."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "The state_bucket must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "state_key_prefix" {
  description = "Key prefix of this environment's state objects in state_bucket, ending in \"/\" (infractl writes \"<env>/<stack>.tfstate\", so \"<env>/\"). The plan role may read only below it and write only its \".tflock\" lock files."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$", var.state_key_prefix))
    error_message = "The state_key_prefix must be a key prefix such as \"dev/\": path segments of letters, digits, \".\", \"_\" or \"-\", ending in \"/\" (no wildcards)."
  }
}

variable "state_kms_key_arn" {
  description = "ARN of the KMS key (key ARN) that encrypts the state bucket; the plan role may use it through S3 for that bucket only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.state_kms_key_arn))
    error_message = "The state_kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"."
  }
}

variable "evidence_bucket_arn" {
  description = "ARN of the WORM evidence bucket: the apply role may put objects into it but never delete it, change its Object Lock configuration or bypass governance retention."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.evidence_bucket_arn))
    error_message = "The evidence_bucket_arn must be an S3 bucket ARN such as \"arn:aws:s3:::my-evidence-bucket\"."
  }
}

variable "evidence_kms_key_arn" {
  description = "ARN of the KMS key (key ARN) that encrypts the evidence bucket; the apply role may use it through S3 to publish evidence, and may not disable or delete it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.evidence_kms_key_arn))
    error_message = "The evidence_kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"."
  }
}

variable "tags" {
  description = "Tags merged onto every resource, in addition to the provider's default_tags. The module sets Name itself."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and must not start with \"aws:\"; tag values must be at most 256 characters."
  }
}
