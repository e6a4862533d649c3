variable "name" {
  description = "Name prefix of the budget (<name>-monthly), e.g. the environment name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "limit_usd" {
  description = "Monthly cost limit of the account in US dollars, greater than 0; rounded to cents."
  type        = number
  nullable    = false

  validation {
    condition     = var.limit_usd >= 0.01
    error_message = "The limit_usd must be greater than 0 (at least 0.01: the limit is sent in cents)."
  }
}

variable "alert_thresholds_percent" {
  description = "Percentages of limit_usd at which actual spend alerts the subscribers, 1 to 9 unique whole numbers from 1 to 200 (a budget holds at most 10 notifications; one is the forecast alert)."
  type        = list(number)
  nullable    = false

  validation {
    condition     = length(var.alert_thresholds_percent) >= 1 && length(var.alert_thresholds_percent) <= 9
    error_message = "Between 1 and 9 alert thresholds must be given (AWS allows 10 notifications per budget, one is the forecast alert)."
  }

  validation {
    condition     = alltrue([for t in var.alert_thresholds_percent : t != null && try(t >= 1 && t <= 200 && floor(t) == t, false)])
    error_message = "Each alert threshold must be a whole number of percent from 1 to 200."
  }

  validation {
    condition     = length(distinct(var.alert_thresholds_percent)) == length(var.alert_thresholds_percent)
    error_message = "The alert thresholds must be unique."
  }
}

variable "forecast_threshold_percent" {
  description = "Percentage of limit_usd that the forecasted spend of the month must exceed to alert the subscribers (1-200)."
  type        = number
  default     = 100
  nullable    = false

  validation {
    condition     = var.forecast_threshold_percent >= 1 && var.forecast_threshold_percent <= 200 && floor(var.forecast_threshold_percent) == var.forecast_threshold_percent
    error_message = "The forecast_threshold_percent must be a whole number from 1 to 200."
  }
}

variable "alert_emails" {
  description = "Email addresses notified by every alert, 1 to 10 unique addresses (the AWS limit of email subscribers per notification)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.alert_emails) >= 1 && length(var.alert_emails) <= 10
    error_message = "Between 1 and 10 alert email addresses must be given."
  }

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e)) && length(e) <= 320])
    error_message = "Each alert email must be an email address such as \"platform-alerts@example.com\"."
  }

  validation {
    condition     = length(distinct([for e in var.alert_emails : lower(e)])) == length(var.alert_emails)
    error_message = "The alert email addresses must be unique."
  }
}

variable "tags" {
  description = "Tags merged onto the budget, in addition to the provider's default_tags. The module sets Name itself (<name>-monthly)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and must not start with \"aws:\"; tag values must be at most 256 characters."
  }
}
