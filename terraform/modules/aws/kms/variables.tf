variable "name" {
  description = "Name prefix of every alias (alias/<name>-<key>) and Name tag, e.g. the environment name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "keys" {
  description = "Keys to create, by purpose name (lowercase letters, digits, hyphens, e.g. \"logs\"). description: what the key protects. service_principals: AWS services that may use the key themselves, each scoped by its AWS-documented condition: CloudWatch Logs (\"logs.<region>.amazonaws.com\") only for log groups of this account in that region (kms:EncryptionContext:aws:logs:arn), any other service only for this account (aws:SourceAccount). usage_role_arns: existing IAM roles that may use the key directly and create grants for AWS resources. via_services: if not empty, IAM principals of this account keep key administration but may use the key only through these services (kms:ViaService, e.g. \"rds.<region>.amazonaws.com\"); empty leaves key use to IAM policies (standard statement)."
  type        = map(object({ description = string, service_principals = optional(list(string), []), usage_role_arns = optional(list(string), []), via_services = optional(list(string), []) }))
  nullable    = false

  validation {
    condition     = length(var.keys) >= 1
    error_message = "At least one key must be given."
  }

  validation {
    condition     = alltrue([for k in keys(var.keys) : can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", k))])
    error_message = "Key names must be 1-32 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition     = alltrue([for k, v in var.keys : try(length(trimspace(v.description)) >= 1 && length(v.description) <= 8192, false)])
    error_message = "Every key needs a non-empty description of at most 8192 characters."
  }

  validation {
    condition = alltrue(flatten([
      for k, v in var.keys : [for p in v.service_principals : can(regex("^[a-z0-9][a-z0-9.-]*\\.amazonaws\\.com(\\.cn)?$", p))]
    ]))
    error_message = "Each service principal must be an AWS service principal such as \"logs.eu-west-1.amazonaws.com\"."
  }

  validation {
    condition = alltrue(flatten([
      for k, v in var.keys : [for a in v.usage_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", a))]
    ]))
    error_message = "Each usage_role_arns entry must be an IAM role ARN such as \"arn:aws:iam::123456789012:role/app\" (no wildcards, users or accounts)."
  }

  validation {
    condition = alltrue(flatten([
      for k, v in var.keys : [for s in v.via_services : can(regex("^[a-z0-9-]+\\.[a-z]{2}(-[a-z]+)+-[0-9]+\\.amazonaws\\.com(\\.cn)?$", s))]
    ]))
    error_message = "Each via_services entry must be a regional service endpoint name such as \"rds.eu-west-1.amazonaws.com\"."
  }
}

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

variable "tags" {
  description = "Tags merged onto every key, in addition to the provider's default_tags. The module sets Name itself (<name>-<key>)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and must not start with \"aws:\"; tag values must be at most 256 characters."
  }
}
