variable "name" {
  description = "Name of the bucket (globally unique): lowercase letters, digits, \"-\" and \"_\", 3-63 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", var.name)) && !startswith(var.name, "goog") && !strcontains(var.name, "google")
    error_message = "The name must be 3-63 characters of lowercase letters, digits, \"-\" and \"_\", start and end with a letter or digit, and not start with \"goog\" or contain \"google\"."
  }
}

variable "project_id" {
  description = "ID of the project holding the bucket (its Storage Transfer Service and Cloud Storage service agents replicate it)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a GCP project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)."
  }
}

variable "location" {
  description = "Region of the bucket, e.g. \"europe-west1\"; the key must be in the same region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.location))
    error_message = "The location must be a GCP region such as \"europe-west1\"."
  }
}

variable "kms_key_id" {
  description = "Crypto key ID (projects/.../cryptoKeys/...) in the bucket's region, the bucket's default encryption key (CMEK). The project's Cloud Storage service agent must already hold roles/cloudkms.cryptoKeyEncrypterDecrypter on it."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_id))
    error_message = "The kms_key_id must be a crypto key ID such as \"projects/p/locations/europe-west1/keyRings/prod-evidence/cryptoKeys/evidence\"."
  }
}

variable "retention_days" {
  description = "Retention period of the bucket's retention policy in days (1-36500): no object can be deleted or replaced before it is that old."
  type        = number

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number from 1 to 36500."
  }
}

variable "object_lock_mode" {
  description = "\"COMPLIANCE\" locks the retention policy (Bucket Lock, irreversible: nobody can remove it or shorten it, and the bucket cannot be deleted while it holds objects under retention); \"GOVERNANCE\" leaves it unlocked, so principals with storage.buckets.update can shorten or remove it. Going from COMPLIANCE back to GOVERNANCE is impossible."
  type        = string
  default     = "COMPLIANCE"
  nullable    = false

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "The object_lock_mode must be \"COMPLIANCE\" or \"GOVERNANCE\"."
  }
}

variable "default_event_based_hold" {
  description = "Put every new object under an event-based hold: it is then kept until the hold is released, and its retention period only starts at the release. Off by default: holds are placed per object (temporary or event-based hold) for litigation or investigation."
  type        = bool
  default     = false
  nullable    = false
}

variable "soft_delete_retention_days" {
  description = "Days a deleted object (once its retention allowed the delete) stays restorable (soft delete, 0 or 7-90)."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.soft_delete_retention_days == 0 || (var.soft_delete_retention_days >= 7 && var.soft_delete_retention_days <= 90 && floor(var.soft_delete_retention_days) == var.soft_delete_retention_days)
    error_message = "The soft_delete_retention_days must be 0 or a whole number from 7 to 90."
  }
}

variable "replication_enabled" {
  description = "Replicate new and updated objects to replica_bucket_name with Storage Transfer Service cross-bucket replication (event-driven, asynchronous)."
  type        = bool
  default     = false
  nullable    = false
}

variable "replica_bucket_name" {
  description = "Name of the existing bucket receiving the replicas (its own default key encrypts them); required with replication_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.replication_enabled ? var.replica_bucket_name != null : true
    error_message = "The replica_bucket_name is required when replication_enabled is true."
  }
}

variable "labels" {
  description = "Labels merged onto the bucket, in addition to the provider's default_labels."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys must be 1-63 characters of lowercase letters, digits, \"_\" and \"-\" starting with a letter; values at most 63 of the same characters."
  }
}
