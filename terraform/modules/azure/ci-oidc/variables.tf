variable "name" {
  description = "Name prefix of the identities (<name>-github-plan, <name>-github-apply), e.g. the environment name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "resource_group_name" {
  description = "Name of the existing resource group of the two identities."
  type        = string
}

variable "location" {
  description = "Azure region of the identities, e.g. \"westeurope\"."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository whose workflows may federate, as \"owner/repo\" (exact: no wildcards)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "The github_repository must be \"owner/repo\" (letters, digits, \".\", \"_\" and \"-\"; no wildcards)."
  }
}

variable "github_environment" {
  description = "GitHub environment (protected by required reviewers) whose jobs may use the apply identity."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,255}$", var.github_environment))
    error_message = "The github_environment must be 1-255 letters, digits, \".\", \"_\" or \"-\"."
  }
}

variable "plan_scopes" {
  description = "Resource IDs (resource groups) the plan identity may read: Reader (control plane) and Key Vault Reader (key metadata, for refreshing keys)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "apply_scopes" {
  description = "Resource IDs (resource groups) the apply identity manages: Contributor, Key Vault Crypto Officer (keys), and Role Based Access Control Administrator restricted to assigning assignable_role_ids."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "apply_read_only_scopes" {
  description = "Resource IDs the apply identity may only read (Reader), e.g. the evidence resource groups that no CI job may change."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "assignable_role_ids" {
  description = "Role definition IDs (GUIDs) the apply identity may assign and remove on apply_scopes: the roles the stacks grant to their own managed identities."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.assignable_role_ids : can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", id))])
    error_message = "Each assignable_role_ids entry must be a lowercase role definition GUID."
  }
}

variable "state_container_id" {
  description = "Resource Manager ID of the blob container holding the environment's Terraform state: both identities get Storage Blob Data Contributor on it (plan must take the state lease)."
  type        = string
}

variable "evidence_container_id" {
  description = "Resource Manager ID of the evidence container the apply identity may publish release evidence to (Storage Blob Data Contributor; the container's WORM policy refuses overwrites and deletes). null grants nothing."
  type        = string
  default     = null
}

variable "budget_scope" {
  description = "Scope (the subscription, \"/subscriptions/<id>\") where the apply identity manages the cost budget (Cost Management Contributor). null grants nothing."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on the identities."
  type        = map(string)
  default     = {}
  nullable    = false
}
