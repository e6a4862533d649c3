# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "dr_region" {
  description = "Disaster-recovery region holding the locked replica bucket and its key, e.g. \"europe-west4\"; must differ from region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.dr_region))
    error_message = "The dr_region must be a GCP region name such as \"europe-west4\"."
  }

  validation {
    condition     = var.dr_region != var.region
    error_message = "The dr_region must differ from region: the replica must survive the loss of the primary region."
  }
}

variable "retention_days" {
  description = "Retention in days of every evidence object, in the primary and the replica bucket (1-36500); the access logs are kept as long, up to Cloud Logging's 3650 days."
  type        = number

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number from 1 to 36500."
  }
}

variable "object_lock_mode" {
  description = "\"COMPLIANCE\" locks the buckets' retention policies and the access log bucket (irreversible: nobody can shorten or remove them) or \"GOVERNANCE\" (unlocked: principals with storage.buckets.update can)."
  type        = string
  default     = "COMPLIANCE"
  nullable    = false

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "The object_lock_mode must be \"COMPLIANCE\" or \"GOVERNANCE\"."
  }
}
