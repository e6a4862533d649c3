# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "deletion_window_days" {
  description = "Days a deleted key (or the vault) stays soft-deleted and recoverable before Azure purges it. Azure takes 7-90: the value is clamped to that range. Fixed once the vault exists."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_days >= 1 && floor(var.deletion_window_days) == var.deletion_window_days
    error_message = "The deletion_window_days must be a whole number of at least 1 (Azure then clamps it to 7-90)."
  }
}

variable "key_vault_allowed_ip_ranges" {
  description = "Public IPv4 addresses or CIDR ranges allowed through the vault firewall, i.e. where Terraform runs (it creates and refreshes keys through the vault's data plane). Everything else is denied except trusted Azure services."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "key_administrator_object_ids" {
  description = "Entra object IDs (e.g. the platform administrators' group) granted Key Vault Crypto Officer on the vault, besides the principal that first applies the stack."
  type        = list(string)
  default     = []
  nullable    = false
}
