variable "name" {
  description = "Name of the Key Vault: 3-24 characters of letters, digits and hyphens, starting with a letter, ending with a letter or digit, no two consecutive hyphens. Globally unique (a soft-deleted vault keeps its name until purged)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "The name must be 3-24 letters, digits and hyphens, start with a letter, end with a letter or digit and contain no \"--\"."
  }
}

variable "resource_group_name" {
  description = "Name of the existing resource group of the vault."
  type        = string
}

variable "location" {
  description = "Azure region of the vault, e.g. \"westeurope\"."
  type        = string
}

variable "keys" {
  description = "Keys to create, by purpose name (lowercase letters, digits, hyphens, e.g. \"logs\"; also the key name). description: what the key protects (kept as the key's description tag, at most 256 characters). key_size: RSA-HSM modulus in bits, 2048, 3072 or 4096."
  type        = map(object({ description = string, key_size = optional(number, 2048) }))
  nullable    = false

  validation {
    condition     = length(var.keys) >= 1
    error_message = "At least one key must be given."
  }

  validation {
    condition     = alltrue([for k in keys(var.keys) : can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", k))])
    error_message = "Key names must be 1-32 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition     = alltrue([for k, v in var.keys : length(trimspace(v.description)) >= 1 && length(v.description) <= 256])
    error_message = "Every key needs a non-empty description of at most 256 characters (it is stored as a tag)."
  }

  validation {
    condition     = alltrue([for k, v in var.keys : contains([2048, 3072, 4096], v.key_size)])
    error_message = "Every key_size must be 2048, 3072 or 4096."
  }
}

variable "soft_delete_retention_days" {
  description = "Days (7-90) a deleted vault or key stays recoverable before Azure purges it; purge protection forbids an earlier purge. Fixed once the vault exists."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.soft_delete_retention_days >= 7 && var.soft_delete_retention_days <= 90 && floor(var.soft_delete_retention_days) == var.soft_delete_retention_days
    error_message = "The soft_delete_retention_days must be a whole number from 7 to 90."
  }
}

variable "rotation_days" {
  description = "Automatic rotation: Key Vault creates a new version of every key this many days after the current version was created."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = var.rotation_days >= 7 && floor(var.rotation_days) == var.rotation_days
    error_message = "The rotation_days must be a whole number of at least 7."
  }
}

variable "version_lifetime_days" {
  description = "Days after its creation at which a key version expires (it can still decrypt and unwrap what it protected, but no longer encrypt or wrap). At least 28 days more than rotation_days, so services that pin a version (AKS KMS) have time to move to the new one."
  type        = number
  default     = 730
  nullable    = false

  validation {
    condition     = var.version_lifetime_days - var.rotation_days >= 28 && floor(var.version_lifetime_days) == var.version_lifetime_days
    error_message = "The version_lifetime_days must be a whole number at least 28 days greater than rotation_days."
  }
}

variable "allowed_ip_ranges" {
  description = "Public IPv4 addresses or CIDR ranges allowed through the vault firewall (e.g. the Terraform runners' egress): Terraform creates and reads keys through the vault's data plane. Everything else is denied, except trusted Azure services (storage, PostgreSQL CMK)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.allowed_ip_ranges : can(cidrnetmask(strcontains(c, "/") ? c : "${c}/32")) && !startswith(c, "0.0.0.0")])
    error_message = "Each allowed_ip_ranges entry must be an IPv4 address or CIDR range, and not 0.0.0.0/0."
  }
}

variable "allowed_subnet_ids" {
  description = "Subnets (with the Microsoft.KeyVault service endpoint) allowed through the vault firewall."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "key_administrator_object_ids" {
  description = "Entra object IDs (users, groups or service principals) granted Key Vault Crypto Officer on the vault, in addition to the principal that first applies the module."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.key_administrator_object_ids : can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", id))])
    error_message = "Each key_administrator_object_ids entry must be an object ID (GUID)."
  }
}

variable "tags" {
  description = "Tags on the vault and every key (azurerm has no provider default tags)."
  type        = map(string)
  default     = {}
  nullable    = false
}
