variable "name" {
  description = "Name of the evidence bucket, e.g. \"infractl-evidence-<account_id>-<region>-<environment>\"; the access-log bucket is \"<name>-access-logs\" and the replication role \"<name>-replication\". 3-51 characters of lowercase letters, digits and hyphens (no dots: they break TLS on virtual-hosted bucket endpoints), starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,49}[a-z0-9]$", var.name))
    error_message = "The name must be 3-51 characters of lowercase letters, digits and hyphens (51 so that \"<name>-access-logs\" stays within S3's 63), starting and ending with a letter or digit."
  }

  validation {
    condition     = length(regexall("^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|--x-s3|--table-s3)$", var.name)) == 0
    error_message = "The name must not start with \"xn--\", \"sthree-\" or \"amzn-s3-demo-\", nor end with \"-s3alias\", \"--ol-s3\", \"--x-s3\" or \"--table-s3\" (prefixes and suffixes S3 reserves)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key (key ARN, not an alias) that encrypts every object of the evidence bucket (SSE-KMS with an S3 Bucket Key). It must be in the bucket's region."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"."
  }
}

variable "retention_days" {
  description = "Default Object Lock retention in days applied to every new object version (1-36500). In COMPLIANCE mode nobody, not even the root user, can delete a version or shorten its retention before it expires."
  type        = number
  nullable    = false

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number from 1 to 36500."
  }
}

variable "object_lock_mode" {
  description = "Default Object Lock retention mode: \"COMPLIANCE\" (no one can delete or shorten, the default) or \"GOVERNANCE\" (principals with s3:BypassGovernanceRetention can)."
  type        = string
  default     = "COMPLIANCE"
  nullable    = false

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "The object_lock_mode must be \"COMPLIANCE\" or \"GOVERNANCE\"."
  }
}

variable "access_log_expiration_days" {
  description = "Days after which S3 server access logs in the \"<name>-access-logs\" bucket expire (noncurrent log versions are removed 30 days later)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = var.access_log_expiration_days >= 1 && floor(var.access_log_expiration_days) == var.access_log_expiration_days
    error_message = "The access_log_expiration_days must be a whole number of at least 1."
  }
}

variable "replication_enabled" {
  description = "Replicate every SSE-KMS object to replica_bucket_arn (a versioned, Object Lock bucket, usually this module in the DR region). A plain bool, so that the replica's ARNs may be unknown until apply."
  type        = bool
  default     = false
  nullable    = false
}

variable "replica_bucket_arn" {
  description = "ARN of the replica bucket (\"arn:aws:s3:::<bucket>\"); required when replication_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.replica_bucket_arn == null || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.replica_bucket_arn))
    error_message = "The replica_bucket_arn must be an S3 bucket ARN such as \"arn:aws:s3:::my-replica-bucket\"."
  }

  validation {
    condition     = !var.replication_enabled || var.replica_bucket_arn != null
    error_message = "The replica_bucket_arn is required when replication_enabled is true."
  }
}

variable "replica_kms_key_arn" {
  description = "ARN of the KMS key (key ARN, in the replica bucket's region) S3 encrypts the replicas with; required when replication_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.replica_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.replica_kms_key_arn))
    error_message = "The replica_kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"."
  }

  validation {
    condition     = !var.replication_enabled || var.replica_kms_key_arn != null
    error_message = "The replica_kms_key_arn is required when replication_enabled is true."
  }
}

variable "tags" {
  description = "Tags merged onto every resource, in addition to the provider's default_tags. The module sets Name itself."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and must not start with \"aws:\"; tag values must be at most 256 characters."
  }
}
