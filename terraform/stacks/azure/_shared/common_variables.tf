# Variables every Azure stack takes, in one place: each stack links this file as common_variables.tf.
# infractl fills them from the environment model (terraform/stacks/stacks.yaml).

variable "environment" {
  description = "Environment name (e.g. \"dev\"); prefixes every resource name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.environment))
    error_message = "The environment must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "subscription_id" {
  description = "Azure subscription (GUID) the stack may touch: the provider works in this subscription only, whatever the caller's default."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "The subscription_id must be a GUID such as \"00000000-0000-0000-0000-000000000000\"."
  }
}

variable "region" {
  description = "Azure region of the stack, by its programmatic name, e.g. \"westeurope\" (not the display name \"West Europe\")."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,30}$", var.region))
    error_message = "The region must be an Azure region name such as \"westeurope\" or \"eastus2\": lowercase letters and digits, no spaces."
  }
}

variable "tags" {
  description = "Tags on every taggable resource (azurerm has no provider default tags: every resource is passed these). Must contain environment (equal to var.environment), service, owner and cost-center, all non-empty."
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

  validation {
    condition     = length(var.tags) <= 50 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 512 && length(v) <= 256 && !can(regex("[<>%&\\\\?/]", k))])
    error_message = "Azure allows at most 50 tags; tag names must be 1-512 characters without < > % & \\ ? /, and tag values at most 256 characters."
  }
}
