# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

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
