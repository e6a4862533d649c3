# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "dr_region" {
  description = "Disaster-recovery region holding the locked replica account and its Key Vault, e.g. \"northeurope\"; must differ from region."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,30}$", var.dr_region))
    error_message = "The dr_region must be an Azure region name such as \"northeurope\"."
  }

  validation {
    condition     = var.dr_region != var.region
    error_message = "The dr_region must differ from region: the replica must survive the loss of the primary region."
  }
}

variable "retention_days" {
  description = "Time-based retention in days (1-146000) of every evidence blob version, in the primary and the replica container."
  type        = number

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 146000 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number from 1 to 146000."
  }
}

variable "object_lock_mode" {
  description = "\"COMPLIANCE\" locks the containers' retention policies (nobody can shorten or remove them); \"GOVERNANCE\" leaves them unlocked (principals allowed to change immutability policies can)."
  type        = string
  default     = "COMPLIANCE"
  nullable    = false

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "The object_lock_mode must be \"COMPLIANCE\" or \"GOVERNANCE\"."
  }
}

variable "allowed_ip_ranges" {
  description = "Public IPv4 addresses or CIDR ranges allowed through the firewalls of both storage accounts and both Key Vaults: where Terraform runs (it creates the keys through the vaults' data plane) and where evidence is published from (CI runners)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "access_log_retention_days" {
  description = "Retention in days (30-730) of the Log Analytics workspaces receiving the accounts' access logs."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = var.access_log_retention_days >= 30 && var.access_log_retention_days <= 730 && floor(var.access_log_retention_days) == var.access_log_retention_days
    error_message = "The access_log_retention_days must be a whole number from 30 to 730."
  }
}
