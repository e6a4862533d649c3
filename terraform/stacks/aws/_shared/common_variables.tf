# Variables every AWS stack takes, in one place: each stack links this file as common_variables.tf.
# infractl fills them from the environment model (terraform/stacks/stacks.yaml).

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
