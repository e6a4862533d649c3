# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "monthly_limit_usd" {
  description = "Monthly cost limit of the subscription (greater than 0). Azure budgets are in the subscription's billing currency: the number is taken as is, so it is US dollars only for a USD billing account."
  type        = number
  nullable    = false

  validation {
    condition     = var.monthly_limit_usd > 0
    error_message = "The monthly_limit_usd must be greater than 0."
  }
}

variable "alert_thresholds_percent" {
  description = "Percentages of the monthly limit at which actual spend alerts alert_emails: 1 to 5 unique whole numbers from 1 to 1000 (Azure allows 5 notifications per budget)."
  type        = list(number)
  nullable    = false

  validation {
    condition     = length(var.alert_thresholds_percent) >= 1 && length(var.alert_thresholds_percent) <= 5
    error_message = "Between 1 and 5 alert thresholds must be given: an Azure budget takes at most 5 notifications."
  }
}

variable "alert_emails" {
  description = "Email addresses notified by every budget alert (checked by the budget module)."
  type        = list(string)
  nullable    = false
}
