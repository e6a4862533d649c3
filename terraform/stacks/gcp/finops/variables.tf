# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "billing_account" {
  description = "ID of the Cloud Billing account paying for the project (XXXXXX-XXXXXX-XXXXXX); the budget belongs to it. Its currency must be USD."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account))
    error_message = "The billing_account must be a Cloud Billing account ID such as \"012345-6789AB-CDEF01\"."
  }
}

variable "monthly_limit_usd" {
  description = "Monthly cost limit of the project in US dollars (greater than 0)."
  type        = number
  nullable    = false

  validation {
    condition     = var.monthly_limit_usd > 0
    error_message = "The monthly_limit_usd must be greater than 0."
  }
}

variable "alert_thresholds_percent" {
  description = "Percentages of the monthly limit at which actual spend alerts alert_emails: 1 to 9 unique whole numbers from 1 to 200 (checked by the budget module)."
  type        = list(number)
  nullable    = false

  validation {
    condition     = length(var.alert_thresholds_percent) >= 1 && alltrue([for t in var.alert_thresholds_percent : try(t >= 1 && t <= 200, false)])
    error_message = "At least one alert threshold must be given, each from 1 to 200 percent."
  }
}

variable "alert_emails" {
  description = "Email addresses notified by every budget alert, 1 to 5 (a budget notifies at most 5 channels; checked by the budget module)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.alert_emails) >= 1 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "At least one alert email must be given, each an email address such as \"platform-alerts@example.com\"."
  }
}
