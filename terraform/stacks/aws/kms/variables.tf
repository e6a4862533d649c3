# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "deletion_window_days" {
  description = "Waiting period in days (7-30) between scheduling a key's deletion and its deletion; the key can be restored until then."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_days >= 7 && var.deletion_window_days <= 30 && floor(var.deletion_window_days) == var.deletion_window_days
    error_message = "The deletion_window_days must be a whole number from 7 to 30."
  }
}
