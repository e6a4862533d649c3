# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "github_repository" {
  description = "GitHub repository whose workflows may assume the roles, as \"owner/repo\" (checked in detail by the ci-oidc module)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "The github_repository must be \"owner/repo\" (letters, digits, \".\", \"_\" and \"-\"; no wildcards)."
  }
}

variable "state_bucket" {
  description = "Name of the Terraform remote-state bucket infractl bootstrapped for the environment (same region as the stack)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "The state_bucket must be an S3 bucket name."
  }
}

variable "state_kms_key_arn" {
  description = "ARN of the KMS key encrypting the state bucket (output state_key_id of the kms stack)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.state_kms_key_arn))
    error_message = "The state_kms_key_arn must be a KMS key ARN."
  }
}

variable "evidence_bucket_arn" {
  description = "ARN of the WORM evidence bucket (output bucket_arn of the evidence stack)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.evidence_bucket_arn))
    error_message = "The evidence_bucket_arn must be an S3 bucket ARN."
  }
}

variable "evidence_kms_key_arn" {
  description = "ARN of the KMS key encrypting the evidence bucket (output key_id of the evidence stack)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.evidence_kms_key_arn))
    error_message = "The evidence_kms_key_arn must be a KMS key ARN."
  }
}
