variable "name" {
  description = "Registry name, globally unique in Azure: 5-50 lowercase letters and digits (no hyphens), e.g. \"acrdev1a2b\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{5,50}$", var.name))
    error_message = "The name must be 5-50 lowercase letters and digits (Azure Container Registry names allow no hyphens)."
  }
}

variable "resource_group_name" {
  description = "Resource group of the registry, its identity and its private endpoint."
  type        = string
}

variable "location" {
  description = "Azure region of the registry, e.g. \"westeurope\"."
  type        = string
}

variable "namespace" {
  description = "Repository namespace, e.g. the environment name: each image is <namespace>/<image>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.namespace))
    error_message = "The namespace must be 1-32 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "repositories" {
  description = "Image names (<namespace>/<image> each), e.g. [\"controlplane-api\", \"controlplane-worker\"]."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.repositories) >= 1 && alltrue([for r in var.repositories : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", r))])
    error_message = "At least one repository must be given, each lowercase letters and digits separated by single \".\", \"_\" or \"-\"."
  }
}

variable "key_vault_id" {
  description = "Resource ID of the Key Vault holding the registry key: the registry's identity is granted that key only (<key_vault_id>/keys/<key name>)."
  type        = string
}

variable "key_vault_key_id" {
  description = "Versionless Key Vault key ID of the customer-managed key that encrypts the registry (https://<vault>.vault.azure.net/keys/<name>); a versionless ID lets the registry follow key rotation."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9-]+\\.vault\\.azure\\.net/keys/[A-Za-z0-9-]+$", var.key_vault_key_id))
    error_message = "The key_vault_key_id must be a versionless Key Vault key ID such as \"https://kv-dev.vault.azure.net/keys/registry\"."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which an untagged manifest is deleted (the registry's retention policy, 1-365)."
  type        = number
  default     = 14
  nullable    = false

  validation {
    condition     = var.untagged_expiry_days >= 1 && var.untagged_expiry_days <= 365 && floor(var.untagged_expiry_days) == var.untagged_expiry_days
    error_message = "The untagged_expiry_days must be a whole number from 1 to 365 (the ACR retention policy's range)."
  }
}

variable "keep_releases" {
  description = "Release images (tags starting with a release_tag_prefixes entry) kept per repository by the daily purge task, newest first."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.keep_releases >= 1 && floor(var.keep_releases) == var.keep_releases
    error_message = "The keep_releases must be a whole number of at least 1."
  }
}

variable "release_tag_prefixes" {
  description = "Tag prefixes of release images (default \"v\")."
  type        = list(string)
  default     = ["v"]
  nullable    = false

  validation {
    condition     = length(var.release_tag_prefixes) >= 1 && alltrue([for p in var.release_tag_prefixes : can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", p))])
    error_message = "At least one release tag prefix must be given, each the start of a Docker tag."
  }
}

variable "pull_principal_ids" {
  description = "Entra object IDs of the next stage's identities (e.g. its cluster's kubelet identity) granted AcrPull on the registry: pull only."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for p in var.pull_principal_ids : can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", p))])
    error_message = "Each pull_principal_ids entry must be an Entra object ID (GUID)."
  }
}

variable "private_endpoint_subnet_id" {
  description = "Subnet of the registry's private endpoint: the registry has no public network access."
  type        = string
}

variable "virtual_network_id" {
  description = "VNet linked to the privatelink.azurecr.io private DNS zone, so the registry's name resolves to its private endpoint."
  type        = string
}

variable "tags" {
  description = "Tags on every taggable resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
