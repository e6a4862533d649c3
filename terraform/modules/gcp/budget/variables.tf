variable "name" {
  description = "Name prefix of the budget (<name>-monthly) and of the notification channels, e.g. the environment name."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-20 characters of lowercase letters, digits and hyphens, start with a letter and end with a letter or digit."
  }
}

variable "project_id" {
  description = "ID of the project the budget covers (its costs only) and that holds the notification channels."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a GCP project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)."
  }
}

variable "billing_account" {
  description = "ID of the Cloud Billing account paying for the project (XXXXXX-XXXXXX-XXXXXX): budgets belong to the billing account."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account))
    error_message = "The billing_account must be a Cloud Billing account ID such as \"012345-6789AB-CDEF01\"."
  }
}

variable "limit_usd" {
  description = "Monthly budget in US dollars (greater than 0). The budget is in USD: the billing account's currency must be USD (Cloud Billing refuses another currency)."
  type        = number
  nullable    = false

  validation {
    condition     = var.limit_usd > 0
    error_message = "The limit_usd must be greater than 0."
  }
}

variable "alert_thresholds_percent" {
  description = "Percentages of the budget at which actual spend (CURRENT_SPEND) alerts the channels: 1 to 9 unique whole numbers from 1 to 200."
  type        = list(number)
  nullable    = false

  validation {
    condition = (
      length(var.alert_thresholds_percent) >= 1 && length(var.alert_thresholds_percent) <= 9 &&
      length(distinct(var.alert_thresholds_percent)) == length(var.alert_thresholds_percent) &&
      alltrue([for t in var.alert_thresholds_percent : t >= 1 && t <= 200 && floor(t) == t])
    )
    error_message = "The alert_thresholds_percent must be 1 to 9 unique whole numbers from 1 to 200."
  }
}

variable "forecast_threshold_percent" {
  description = "Percentage of the budget that the month's forecast spend (FORECASTED_SPEND) alerts at; null for no forecast alert."
  type        = number
  default     = 100
  nullable    = true

  validation {
    condition     = var.forecast_threshold_percent == null || try(var.forecast_threshold_percent >= 1 && var.forecast_threshold_percent <= 200 && floor(var.forecast_threshold_percent) == var.forecast_threshold_percent, false)
    error_message = "The forecast_threshold_percent must be null or a whole number from 1 to 200."
  }
}

variable "alert_emails" {
  description = "Email addresses notified by every alert, 1 to 5 (a budget sends to at most 5 notification channels), one email notification channel each."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.alert_emails) >= 1 && length(var.alert_emails) <= 5 && length(distinct(var.alert_emails)) == length(var.alert_emails)
    error_message = "Between 1 and 5 unique alert emails must be given (a Cloud Billing budget notifies at most 5 channels)."
  }

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Every alert email must be an email address such as \"platform-alerts@example.com\"."
  }
}

variable "labels" {
  description = "Labels set as the notification channels' user_labels (the provider's default_labels does not reach them; budgets take none)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys must be 1-63 characters of lowercase letters, digits, \"_\" and \"-\" starting with a letter; values at most 63 of the same characters."
  }
}
