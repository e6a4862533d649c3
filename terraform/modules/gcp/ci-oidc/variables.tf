variable "name" {
  description = "Prefix of the pool (<name>-github) and the service accounts (<name>-gh-plan, <name>-gh-apply), e.g. the environment name. Lowercase letters, digits and hyphens, 1-20 characters, starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$", var.name)) && !startswith(var.name, "gcp-")
    error_message = "The name must be 1-20 characters of lowercase letters, digits and hyphens, start with a letter, end with a letter or digit, and not start with \"gcp-\" (reserved for pool IDs)."
  }
}

variable "project_id" {
  description = "ID of the project holding the pool and the service accounts, on which the roles are granted."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a GCP project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)."
  }
}

variable "github_repository" {
  description = "GitHub repository whose workflows may federate, as \"owner/repo\" (exactly as GitHub spells it: the OIDC claims are compared as strings)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "The github_repository must be \"owner/repo\" (letters, digits, \".\", \"_\" and \"-\"; no wildcards)."
  }
}

variable "github_environment" {
  description = "GitHub environment (protected by required reviewers) whose jobs may impersonate the apply service account, e.g. \"prod\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,255}$", var.github_environment))
    error_message = "The github_environment must be a GitHub environment name (letters, digits, \".\", \"_\" and \"-\")."
  }
}

variable "state_bucket" {
  description = "Name of the Terraform remote-state bucket (uniform bucket-level access, which IAM conditions need): the plan service account may read the state and write lock files under state_prefix."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "The state_bucket must be a Cloud Storage bucket name."
  }
}

variable "state_prefix" {
  description = "Object prefix of the environment's states in state_bucket, e.g. \"prod/\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+/$", var.state_prefix))
    error_message = "The state_prefix must be one path segment ending with \"/\", e.g. \"prod/\"."
  }
}

variable "plan_roles" {
  description = "Project roles of the plan service account: read-only (terraform plan refreshes every resource and reads IAM policies). serviceUsageConsumer lets it bill API calls to the project (user_project_override in the finops stack)."
  type        = list(string)
  default     = ["roles/viewer", "roles/iam.securityReviewer", "roles/serviceusage.serviceUsageConsumer"]
  nullable    = false

  validation {
    condition     = alltrue([for r in var.plan_roles : can(regex("^roles/[A-Za-z0-9_.]+$", r)) && !contains(["roles/owner", "roles/editor"], r)])
    error_message = "Every plan role must be a predefined role (\"roles/...\"), and not roles/owner or roles/editor: the plan identity is read-only."
  }
}

variable "apply_roles" {
  description = "Project roles of the apply service account: what the stacks create (network, GKE, Cloud SQL, Cloud KMS, Cloud Storage, Cloud Logging, IAM, Storage Transfer, monitoring channels, APIs). Budgets need a role on the billing account, outside the project (see README)."
  type        = list(string)
  default = [
    "roles/cloudkms.admin",
    "roles/cloudsql.admin",
    "roles/compute.networkAdmin",
    "roles/compute.securityAdmin",
    "roles/container.admin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/iam.workloadIdentityPoolAdmin",
    "roles/logging.admin",
    "roles/monitoring.notificationChannelEditor",
    "roles/resourcemanager.projectIamAdmin",
    "roles/servicenetworking.networksAdmin",
    "roles/serviceusage.serviceUsageAdmin",
    "roles/storage.admin",
    "roles/storagetransfer.admin",
  ]
  nullable = false

  validation {
    condition     = alltrue([for r in var.apply_roles : can(regex("^roles/[A-Za-z0-9_.]+$", r))])
    error_message = "Every apply role must be a predefined role (\"roles/...\")."
  }
}
