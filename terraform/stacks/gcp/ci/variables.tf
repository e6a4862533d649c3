# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "github_repository" {
  description = "GitHub repository whose workflows may impersonate the service accounts, as \"owner/repo\" (checked in detail by the ci-oidc module)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "The github_repository must be \"owner/repo\" (letters, digits, \".\", \"_\" and \"-\"; no wildcards)."
  }
}

variable "state_bucket" {
  description = "Name of the Terraform remote-state bucket infractl bootstrapped for the environment (uniform bucket-level access); the plan identity reads <environment>/ in it and writes only lock files."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "The state_bucket must be a Cloud Storage bucket name."
  }
}
