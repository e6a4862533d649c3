# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "environment" {
  description = "Environment name (e.g. \"dev\"); prefixes every resource name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.environment))
    error_message = "The environment must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "account_id" {
  description = "AWS account ID the stack may touch (the provider refuses any other account)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be exactly 12 digits."
  }
}

variable "region" {
  description = "AWS region of the stack, e.g. \"eu-west-1\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region name such as \"eu-west-1\" or \"us-gov-west-1\"."
  }
}

variable "tags" {
  description = "Tags applied to every resource through the provider's default_tags. Must contain environment (equal to var.environment), service, owner and cost-center, all non-empty."
  type        = map(string)
  nullable    = false

  validation {
    condition     = alltrue([for k in ["environment", "service", "owner", "cost-center"] : trimspace(lookup(var.tags, k, "")) != ""])
    error_message = "The tags must contain non-empty values for the keys environment, service, owner and cost-center."
  }

  validation {
    condition     = lookup(var.tags, "environment", var.environment) == var.environment
    error_message = "The environment tag must equal var.environment."
  }
}

variable "monthly_limit_usd" {
  description = "Monthly cost limit of the account in US dollars (greater than 0)."
  type        = number
  nullable    = false

  validation {
    condition     = var.monthly_limit_usd > 0
    error_message = "The monthly_limit_usd must be greater than 0."
  }
}

variable "alert_thresholds_percent" {
  description = "Percentages of the monthly limit at which actual spend alerts alert_emails: 1 to 9 unique whole numbers from 1 to 200 (checked by the budgets module)."
  type        = list(number)
  nullable    = false

  validation {
    condition     = length(var.alert_thresholds_percent) >= 1 && alltrue([for t in var.alert_thresholds_percent : try(t >= 1 && t <= 200, false)])
    error_message = "At least one alert threshold must be given, each from 1 to 200 percent."
  }
}

variable "alert_emails" {
  description = "Email addresses notified by every budget alert, 1 to 10 (checked by the budgets module)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.alert_emails) >= 1 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "At least one alert email must be given, each an email address such as \"platform-alerts@example.com\"."
  }
}
