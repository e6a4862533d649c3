variable "name" {
  description = "Name of the Cloud SQL instance, e.g. \"prod-control-plane\". Lowercase letters, digits and hyphens, 1-63 characters, starting with a letter. A deleted instance's name stays taken for up to a week."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-63 characters of lowercase letters, digits and hyphens, start with a letter and end with a letter or digit."
  }
}

variable "project_id" {
  description = "ID of the project holding the instance (IAM conditions and database user names carry it)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a GCP project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)."
  }
}

variable "region" {
  description = "Region of the instance; the CMEK key must be in the same region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.region))
    error_message = "The region must be a GCP region such as \"europe-west1\"."
  }
}

variable "database_version" {
  description = "Cloud SQL database version: PostgreSQL 16 only (\"POSTGRES_16\"); Cloud SQL applies the minor versions itself during maintenance."
  type        = string
  default     = "POSTGRES_16"
  nullable    = false

  validation {
    condition     = var.database_version == "POSTGRES_16"
    error_message = "The database_version must be \"POSTGRES_16\"."
  }
}

variable "tier" {
  description = "Machine tier of the instance, e.g. \"db-custom-2-8192\" (2 vCPUs, 8 GiB) for the Enterprise edition."
  type        = string

  validation {
    condition     = can(regex("^db-[a-z0-9-]+$", var.tier))
    error_message = "The tier must be a Cloud SQL tier such as \"db-custom-2-8192\" (it starts with \"db-\")."
  }
}

variable "edition" {
  description = "Cloud SQL edition: \"ENTERPRISE\" (db-custom-* tiers, point-in-time recovery logs kept up to 7 days) or \"ENTERPRISE_PLUS\" (db-perf-optimized-* tiers, up to 35 days). Set explicitly: PostgreSQL 16 instances otherwise default to Enterprise Plus."
  type        = string
  default     = "ENTERPRISE"
  nullable    = false

  validation {
    condition     = contains(["ENTERPRISE", "ENTERPRISE_PLUS"], var.edition)
    error_message = "The edition must be \"ENTERPRISE\" or \"ENTERPRISE_PLUS\"."
  }
}

variable "disk_size_gib" {
  description = "Initial SSD storage in GiB (10-65536)."
  type        = number

  validation {
    condition     = var.disk_size_gib >= 10 && var.disk_size_gib <= 65536 && floor(var.disk_size_gib) == var.disk_size_gib
    error_message = "The disk_size_gib must be a whole number from 10 to 65536."
  }
}

variable "disk_autoresize_limit_gib" {
  description = "Storage autoscaling ceiling in GiB, at least disk_size_gib and at most 65536; equal to disk_size_gib turns automatic storage increase off."
  type        = number

  validation {
    condition     = var.disk_autoresize_limit_gib >= var.disk_size_gib && var.disk_autoresize_limit_gib <= 65536 && floor(var.disk_autoresize_limit_gib) == var.disk_autoresize_limit_gib
    error_message = "The disk_autoresize_limit_gib must be a whole number of GiB, at least disk_size_gib and at most 65536."
  }
}

variable "high_availability" {
  description = "REGIONAL availability: a synchronous standby in another zone of the region with automatic failover; false gives a ZONAL instance."
  type        = bool
  default     = true
  nullable    = false
}

variable "kms_key_id" {
  description = "Crypto key ID (projects/.../cryptoKeys/...) in the instance's region encrypting its storage and backups (CMEK). The module grants the Cloud SQL service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on it."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_id))
    error_message = "The kms_key_id must be a crypto key ID such as \"projects/p/locations/europe-west1/keyRings/prod/cryptoKeys/database\"."
  }
}

variable "network_id" {
  description = "ID of the VPC network (projects/<project>/global/networks/<name>) whose private services access connection gives the instance its private address."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/global/networks/[^/]+$", var.network_id))
    error_message = "The network_id must look like \"projects/<project>/global/networks/<name>\"."
  }
}

variable "backup_retention_days" {
  description = "Number of daily automated backups kept (1-365)."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 365 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "The backup_retention_days must be a whole number from 1 to 365."
  }
}

variable "transaction_log_retention_days" {
  description = "Days of transaction logs kept for point-in-time recovery (1-7 on the Enterprise edition, 1-35 on Enterprise Plus); the recovery window."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.transaction_log_retention_days >= 1 && var.transaction_log_retention_days <= 35 && floor(var.transaction_log_retention_days) == var.transaction_log_retention_days
    error_message = "The transaction_log_retention_days must be a whole number from 1 to 35."
  }

  validation {
    condition     = var.edition == "ENTERPRISE_PLUS" || var.transaction_log_retention_days <= 7
    error_message = "The Enterprise edition keeps at most 7 days of transaction logs."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the instance, both in Terraform (deletion_protection) and in the Cloud SQL API (settings.deletion_protection_enabled)."
  type        = bool
  default     = true
  nullable    = false
}

variable "databases" {
  description = "Databases to bootstrap, by name, with their owner role. Names and owners: lowercase letters, digits and underscores, starting with a letter. Each owner gets a Google service account that logs in through IAM database authentication."
  type        = map(object({ owner = string }))
  default = {
    app                 = { owner = "app" }
    temporal            = { owner = "temporal" }
    temporal_visibility = { owner = "temporal" }
  }
  nullable = false

  validation {
    condition     = length(var.databases) >= 1 && alltrue([for db, v in var.databases : can(regex("^[a-z][a-z0-9_]{0,62}$", db)) && can(regex("^[a-z][a-z0-9_]{0,62}$", v.owner))])
    error_message = "Database and owner names must be 1-63 characters of lowercase letters, digits and underscores, starting with a letter; at least one database."
  }

  validation {
    condition     = !anytrue([for db, v in var.databases : contains(["postgres", "cloudsqladmin", "template0", "template1"], db) || contains(["postgres", "cloudsqlsuperuser", "cloudsqladmin", "public"], v.owner)])
    error_message = "The names postgres, cloudsqladmin, template0 and template1 (databases) and postgres, cloudsqlsuperuser, cloudsqladmin and public (owners) are reserved."
  }
}

variable "service_account_prefix" {
  description = "Prefix of the owners' Google service accounts (<prefix>-pg-<owner>, at most 30 characters), e.g. the environment name."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$", var.service_account_prefix))
    error_message = "The service_account_prefix must be 1-20 characters of lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "service_account_ids" {
  description = "Service account IDs of owners whose <service_account_prefix>-pg-<owner> would not fit GCP's 30 characters (e.g. tenant owners), by owner; the others take the default."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for id in values(var.service_account_ids) : can(regex("^[a-z]([a-z0-9-]{4,28}[a-z0-9])$", id))])
    error_message = "A service account ID must be 6-30 characters of lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "grant_kms_key" {
  description = "Grant the Cloud SQL service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on kms_key_id. Turn it off for further instances of the project that use the same key, and pass them the kms_key_id output of the module that grants it: one grant per key and agent, since destroying a google_kms_crypto_key_iam_member revokes the member for every instance."
  type        = bool
  default     = true
  nullable    = false
}

variable "labels" {
  description = "Labels of the environment (the stack passes its converted tags), set as the instance's user_labels, which the provider's default_labels does not reach."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys must be 1-63 characters of lowercase letters, digits, \"_\" and \"-\" starting with a letter; values at most 63 of the same characters."
  }
}
