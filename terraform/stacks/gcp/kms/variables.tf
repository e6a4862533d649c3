# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "deletion_window_days" {
  description = "Days (1-120) a destroyed key version waits in DESTROY_SCHEDULED before Cloud KMS destroys its material; it can be restored until then."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_days >= 1 && var.deletion_window_days <= 120 && floor(var.deletion_window_days) == var.deletion_window_days
    error_message = "The deletion_window_days must be a whole number from 1 to 120 (Cloud KMS limits)."
  }
}
