variable "name" {
  description = "Name of the key ring, e.g. the environment name. Letters, digits, \"_\" and \"-\", 1-63 characters. Key rings cannot be deleted in GCP: the name stays taken in the project and location for good."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,63}$", var.name))
    error_message = "The name must be 1-63 characters of letters, digits, \"_\" and \"-\"."
  }
}

variable "location" {
  description = "Cloud KMS location of the key ring and its keys, e.g. \"europe-west1\". A key only protects resources in its own location (Cloud SQL, GKE, Cloud Storage and Cloud Logging buckets of that region)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.location))
    error_message = "The location must be a GCP region such as \"europe-west1\" (regional keys only: the stacks' resources are regional)."
  }
}

variable "keys" {
  description = "Keys to create, by purpose name (lowercase letters, digits, hyphens, e.g. \"logs\"). description: what the key protects (Cloud KMS keys have no description field: it documents the call). encrypter_decrypters: IAM members granted roles/cloudkms.cryptoKeyEncrypterDecrypter on this key only, keyed by a fixed label (e.g. { cloud-storage = \"serviceAccount:service-123@gs-project-accounts.iam.gserviceaccount.com\" }: the label, not the member, keys the binding, so a member known only at apply time still plans). Service agents that belong to one consuming stack are granted there instead."
  type = map(object({
    description          = string
    encrypter_decrypters = optional(map(string), {})
  }))
  nullable = false

  validation {
    condition     = length(var.keys) >= 1
    error_message = "At least one key must be given."
  }

  validation {
    condition     = alltrue([for k in keys(var.keys) : can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", k))])
    error_message = "Key names must be 1-32 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition     = alltrue([for k, v in var.keys : length(trimspace(v.description)) >= 1])
    error_message = "Every key needs a non-empty description."
  }

  validation {
    condition = alltrue(flatten([
      for k, v in var.keys : [for label, m in v.encrypter_decrypters : can(regex("^[a-z0-9-]{1,32}$", label)) && can(regex("^(serviceAccount|group|user):[^@\\s]+@[^@\\s]+$", m))]
    ]))
    error_message = "Each encrypter_decrypters entry must be keyed by a label of 1-32 lowercase letters, digits and hyphens, and be an IAM member such as \"serviceAccount:name@project.iam.gserviceaccount.com\" (no allUsers, allAuthenticatedUsers or domains)."
  }
}

variable "rotation_period" {
  description = "Automatic rotation period of every key, in seconds with an \"s\" suffix (Cloud KMS's format), from 1 day to 365 days; default 90 days (\"7776000s\"). Cloud KMS creates a new primary key version each period; older versions stay enabled to decrypt what they encrypted."
  type        = string
  default     = "7776000s"
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]+s$", var.rotation_period)) && try(tonumber(trimsuffix(var.rotation_period, "s")) > 86400 && tonumber(trimsuffix(var.rotation_period, "s")) <= 31536000, false)
    error_message = "The rotation_period must be a whole number of seconds followed by \"s\", more than 86400 (1 day) and at most 31536000 (365 days), e.g. \"7776000s\" (90 days)."
  }
}

variable "deletion_window_days" {
  description = "Days (1-120) a key version spends in DESTROY_SCHEDULED before Cloud KMS destroys its material (destroy_scheduled_duration); it can be restored until then."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_days >= 1 && var.deletion_window_days <= 120 && floor(var.deletion_window_days) == var.deletion_window_days
    error_message = "The deletion_window_days must be a whole number from 1 to 120 (Cloud KMS limits)."
  }
}

variable "protection_level" {
  description = "Protection level of the key material: \"SOFTWARE\" or \"HSM\" (Cloud HSM, FIPS 140-2 Level 3)."
  type        = string
  default     = "SOFTWARE"
  nullable    = false

  validation {
    condition     = contains(["SOFTWARE", "HSM"], var.protection_level)
    error_message = "The protection_level must be \"SOFTWARE\" or \"HSM\"."
  }
}

variable "labels" {
  description = "Labels merged onto every key, in addition to the provider's default_labels. The module sets purpose=<key name> itself."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys must be 1-63 characters of lowercase letters, digits, \"_\" and \"-\" starting with a letter; values at most 63 of the same characters."
  }
}
