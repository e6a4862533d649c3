variable "name" {
  description = "Name of the backup bucket; the access-log bucket is \"<name>-access-logs\". 3-51 characters of lowercase letters, digits and hyphens (no dots: they break TLS on virtual-hosted bucket endpoints), starting and ending with a letter or digit."
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
  description = "ARN of the customer-managed KMS key (key ARN, not an alias) that encrypts every backup (SSE-KMS with an S3 Bucket Key). It must be in the bucket's region, and its policy must let the writers use it through S3 (kms:ViaService s3.<region>.amazonaws.com)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted backup object is kept as a noncurrent version before it expires. Current objects never expire: deleting backups is the writer's decision."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.noncurrent_version_days >= 1 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "The noncurrent_version_days must be a whole number of at least 1."
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
