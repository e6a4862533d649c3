variable "project_id" {
  description = "ID of the project holding the log bucket and the sink (the logs routed are this project's)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a GCP project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)."
  }
}

variable "name" {
  description = "ID of the log bucket and name of the sink that fills it, e.g. \"prod-vpc-flow-logs\": letters, digits, \"_\" and \"-\", 3-100 characters."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{3,100}$", var.name))
    error_message = "The name must be 3-100 characters of letters, digits, \"_\" and \"-\"."
  }
}

variable "description" {
  description = "What the bucket keeps; also the sink's description."
  type        = string
  nullable    = false
}

variable "location" {
  description = "Location of the log bucket, e.g. \"europe-west1\"; the CMEK key must be in the same location."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.location))
    error_message = "The location must be a GCP region such as \"europe-west1\"."
  }
}

variable "retention_days" {
  description = "Days the log entries are kept (1-3650, the Cloud Logging limits)."
  type        = number
  nullable    = false

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number from 1 to 3650 (Cloud Logging log bucket limits)."
  }
}

variable "locked" {
  description = "Lock the bucket: nobody can then shorten its retention or delete it while it holds entries younger than the retention. Irreversible."
  type        = bool
  default     = false
  nullable    = false
}

variable "kms_key_id" {
  description = "Crypto key ID (projects/.../cryptoKeys/...) encrypting the bucket (CMEK), in the bucket's location. The project's Cloud Logging service account (google_logging_project_cmek_settings service_account_id) must already hold roles/cloudkms.cryptoKeyEncrypterDecrypter on it."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_id))
    error_message = "The kms_key_id must be a crypto key ID such as \"projects/p/locations/europe-west1/keyRings/prod/cryptoKeys/logs\"."
  }
}

variable "filter" {
  description = "Logging query selecting the entries the sink copies into the bucket, e.g. resource.type=\"gce_subnetwork\"."
  type        = string

  validation {
    condition     = length(trimspace(var.filter)) > 0
    error_message = "The filter must not be empty: an empty filter would copy every log entry of the project."
  }
}
