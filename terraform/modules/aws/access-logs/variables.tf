variable "name" {
  description = "Name of the access-log bucket, e.g. \"<source bucket>-access-logs\". 3-63 characters of lowercase letters, digits and hyphens (no dots: they break TLS on virtual-hosted bucket endpoints), starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name))
    error_message = "The name must be 3-63 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition     = length(regexall("^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|--x-s3|--table-s3)$", var.name)) == 0
    error_message = "The name must not start with \"xn--\", \"sthree-\" or \"amzn-s3-demo-\", nor end with \"-s3alias\", \"--ol-s3\", \"--x-s3\" or \"--table-s3\" (prefixes and suffixes S3 reserves)."
  }
}

variable "source_bucket_arn" {
  description = "ARN of the bucket whose S3 server access logs this bucket receives (\"arn:aws:s3:::<bucket>\", same account and region); the logging service may write only on its behalf (aws:SourceArn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.source_bucket_arn))
    error_message = "The source_bucket_arn must be an S3 bucket ARN such as \"arn:aws:s3:::my-bucket\"."
  }
}

variable "prefix" {
  description = "Key prefix the source bucket's logging writes under (its target_prefix), e.g. \"<source bucket>/\"; the logging service may write only below it. Must end with \"/\" and must not start with one."
  type        = string

  validation {
    condition     = can(regex("^[^/].*/$", var.prefix)) && length(var.prefix) <= 512
    error_message = "The prefix must be at most 512 characters, end with \"/\" and not start with \"/\", e.g. \"my-bucket/\"."
  }
}

variable "expiration_days" {
  description = "Days after which access logs expire (their noncurrent versions are removed 30 days later)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = var.expiration_days >= 1 && floor(var.expiration_days) == var.expiration_days
    error_message = "The expiration_days must be a whole number of at least 1."
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
