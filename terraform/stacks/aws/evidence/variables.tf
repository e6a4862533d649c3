# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "environment" {
  description = "Environment name (e.g. \"dev\"); part of every bucket name and key alias. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
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

variable "dr_region" {
  description = "Disaster-recovery region holding the locked replica bucket and its key, e.g. \"eu-central-1\"; must differ from region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.dr_region))
    error_message = "The dr_region must be an AWS region name such as \"eu-central-1\"."
  }

  validation {
    condition     = var.dr_region != var.region
    error_message = "The dr_region must differ from region: the replica must survive the loss of the primary region."
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


variable "retention_days" {
  description = "Default Object Lock retention in days of every evidence object, in the primary and the replica bucket (1-36500)."
  type        = number

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number from 1 to 36500."
  }
}

variable "object_lock_mode" {
  description = "Default Object Lock mode: \"COMPLIANCE\" (nobody can delete or shorten a retention) or \"GOVERNANCE\" (principals with s3:BypassGovernanceRetention can)."
  type        = string
  default     = "COMPLIANCE"
  nullable    = false

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "The object_lock_mode must be \"COMPLIANCE\" or \"GOVERNANCE\"."
  }
}
