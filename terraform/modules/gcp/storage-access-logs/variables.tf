variable "project_id" {
  description = "ID of the project whose Cloud Storage Data Access audit logs are turned on (project-wide: every bucket of the project is audited)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a GCP project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)."
  }
}

variable "name" {
  description = "ID of the log bucket keeping the access logs and name of its sink, e.g. \"prod-evidence-access-logs\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{3,100}$", var.name))
    error_message = "The name must be 3-100 characters of letters, digits, \"_\" and \"-\"."
  }
}

variable "location" {
  description = "Region of the log bucket; the key must be in the same region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.location))
    error_message = "The location must be a GCP region such as \"europe-west1\"."
  }
}

variable "bucket_names" {
  description = "Cloud Storage buckets whose audit log entries (admin and data access: every read, write and metadata request, with the caller's identity) the log bucket keeps."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.bucket_names) >= 1
    error_message = "At least one bucket name must be given."
  }
}

variable "retention_days" {
  description = "Days the access log entries are kept (1-3650)."
  type        = number
  nullable    = false

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number from 1 to 3650 (Cloud Logging log bucket limits)."
  }
}

variable "locked" {
  description = "Lock the log bucket (irreversible): its retention cannot be shortened nor the bucket deleted."
  type        = bool
  default     = false
  nullable    = false
}

variable "kms_key_id" {
  description = "Crypto key ID encrypting the log bucket, usable by the project's Cloud Logging service account."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_id))
    error_message = "The kms_key_id must be a crypto key ID such as \"projects/p/locations/europe-west1/keyRings/prod-evidence/cryptoKeys/access-logs\"."
  }
}
