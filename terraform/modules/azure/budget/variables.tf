variable "name" {
  description = "Name of the budget, e.g. \"<environment>-monthly\". 1-63 letters, digits, hyphens and underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,63}$", var.name))
    error_message = "The name must be 1-63 letters, digits, hyphens and underscores."
  }
}

variable "subscription_id" {
  description = "Subscription (GUID) whose costs the budget tracks."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "The subscription_id must be a GUID."
  }
}

variable "amount" {
  description = "Monthly budget amount, in the billing currency of the subscription (Azure budgets have no currency of their own)."
  type        = number
  nullable    = false

  validation {
    condition     = var.amount > 0
    error_message = "The amount must be greater than 0."
  }
}

variable "alert_thresholds_percent" {
  description = "Percentages (1-1000) of the amount at which actual spend alerts; Azure allows at most 5 notifications per budget."
  type        = list(number)
  nullable    = false

  validation {
    condition     = length(var.alert_thresholds_percent) >= 1 && length(var.alert_thresholds_percent) <= 5 && length(distinct(var.alert_thresholds_percent)) == length(var.alert_thresholds_percent)
    error_message = "Between 1 and 5 unique thresholds must be given (Azure budgets take at most 5 notifications)."
  }

  validation {
    condition     = alltrue([for t in var.alert_thresholds_percent : t >= 1 && t <= 1000 && floor(t) == t])
    error_message = "Every threshold must be a whole number of percent from 1 to 1000."
  }
}

variable "alert_emails" {
  description = "Email addresses notified by every alert (1-50)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.alert_emails) >= 1 && length(var.alert_emails) <= 50 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Between 1 and 50 email addresses must be given, each such as \"platform-alerts@example.com\"."
  }
}
