# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "environment" {
  description = "Environment name (e.g. \"dev\"); prefixes the role names, is the GitHub environment of the apply role and the state key prefix. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.environment))
    error_message = "The environment must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "account_id" {
  description = "AWS account ID the stack may touch (the provider refuses any other account)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be exactly 12 digits."
  }
}

variable "region" {
  description = "AWS region of the stack, e.g. \"eu-west-1\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region name such as \"eu-west-1\" or \"us-gov-west-1\"."
  }
}

variable "tags" {
  description = "Tags applied to every resource through the provider's default_tags. Must contain environment (equal to var.environment), service, owner and cost-center, all non-empty."
  type        = map(string)
  nullable    = false

  validation {
    condition     = alltrue([for k in ["environment", "service", "owner", "cost-center"] : trimspace(lookup(var.tags, k, "")) != ""])
    error_message = "The tags must contain non-empty values for the keys environment, service, owner and cost-center."
  }

  validation {
    condition     = lookup(var.tags, "environment", var.environment) == var.environment
    error_message = "The environment tag must equal var.environment."
  }
}

variable "github_repository" {
  description = "GitHub repository whose workflows may assume the roles, as \"owner/repo\" (checked in detail by the ci-oidc module)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "The github_repository must be \"owner/repo\" (letters, digits, \".\", \"_\" and \"-\"; no wildcards)."
  }
}

variable "state_bucket" {
  description = "Name of the Terraform remote-state bucket infractl bootstrapped for the environment (same region as the stack)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "The state_bucket must be an S3 bucket name."
  }
}

variable "state_kms_key_arn" {
  description = "ARN of the KMS key encrypting the state bucket (output state_key_arn of the kms stack)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.state_kms_key_arn))
    error_message = "The state_kms_key_arn must be a KMS key ARN."
  }
}

variable "evidence_bucket_arn" {
  description = "ARN of the WORM evidence bucket (output bucket_arn of the evidence stack)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.evidence_bucket_arn))
    error_message = "The evidence_bucket_arn must be an S3 bucket ARN."
  }
}

variable "evidence_kms_key_arn" {
  description = "ARN of the KMS key encrypting the evidence bucket (output kms_key_arn of the evidence stack)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.evidence_kms_key_arn))
    error_message = "The evidence_kms_key_arn must be a KMS key ARN."
  }
}
