# Values come from environments/<env>.yaml, infractl's state backend and the
# evidence stack through infractl; nothing here is environment-specific.

variable "github_repository" {
  description = "GitHub repository whose workflows may federate, as \"owner/repo\" (checked in detail by the ci-oidc module)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "The github_repository must be \"owner/repo\" (letters, digits, \".\", \"_\" and \"-\"; no wildcards)."
  }
}

variable "state_container_id" {
  description = "Resource Manager ID of the blob container holding the environment's Terraform state, the one infractl bootstrapped (/subscriptions/.../storageAccounts/<account>/blobServices/default/containers/<container>)."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Storage/storageAccounts/[a-z0-9]{3,24}/blobServices/default/containers/[a-z0-9-]{3,63}$", var.state_container_id))
    error_message = "The state_container_id must be a blob container resource ID."
  }
}

variable "evidence_container_id" {
  description = "Resource Manager ID of the primary evidence container (evidence stack output container_id): release jobs of the apply identity publish evidence to it."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Storage/storageAccounts/[a-z0-9]{3,24}/blobServices/default/containers/[a-z0-9-]{3,63}$", var.evidence_container_id))
    error_message = "The evidence_container_id must be a blob container resource ID."
  }
}
