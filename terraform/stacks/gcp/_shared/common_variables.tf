# Variables every GCP stack takes, in one place: each stack links this file as common_variables.tf.
# infractl fills them from the environment model (terraform/stacks/stacks.yaml).

variable "environment" {
  description = "Environment name (e.g. \"dev\"); prefixes every resource name. Lowercase letters, digits and hyphens, 1-20 characters, starting with a letter and ending with a letter or digit (GCP service account IDs, which carry it, are at most 30 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$", var.environment))
    error_message = "The environment must be 1-20 characters of lowercase letters, digits and hyphens, start with a letter and end with a letter or digit."
  }
}

variable "project_id" {
  description = "ID of the GCP project the stack manages (the provider's project): 6-30 characters of lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a GCP project ID: 6-30 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (e.g. \"acme-control-plane-prod\")."
  }
}

variable "region" {
  description = "GCP region of the stack, e.g. \"europe-west1\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.region))
    error_message = "The region must be a GCP region name such as \"europe-west1\", \"us-central1\" or \"northamerica-northeast1\" (not a zone such as \"europe-west1-b\")."
  }
}

variable "tags" {
  description = "Labels applied to every resource that takes labels, through the provider's default_labels (providers.tf lowercases the values and replaces characters GCP labels refuse with \"-\"). Must contain environment (equal to var.environment), service, owner and cost-center, all non-empty; keys must already be valid GCP label keys."
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
    condition     = length(var.tags) <= 64 && alltrue([for k in keys(var.tags) : can(regex("^[a-z][a-z0-9_-]{0,62}$", k))])
    error_message = "GCP labels allow at most 64 keys, each 1-63 characters of lowercase letters, digits, \"_\" and \"-\", starting with a letter (e.g. \"cost-center\")."
  }
}
