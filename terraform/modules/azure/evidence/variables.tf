variable "storage_account_name" {
  description = "Name of the storage account: 3-24 lowercase letters and digits, globally unique."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.storage_account_name))
    error_message = "The storage_account_name must be 3-24 lowercase letters and digits."
  }
}

variable "container_name" {
  description = "Name of the evidence container: 3-63 lowercase letters, digits and hyphens, starting with a letter or digit, no two consecutive hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$", var.container_name)) && !strcontains(var.container_name, "--")
    error_message = "The container_name must be 3-63 lowercase letters, digits and hyphens, start and end with a letter or digit, without \"--\"."
  }
}

variable "resource_group_name" {
  description = "Name of the existing resource group of the account and its identity."
  type        = string
}

variable "location" {
  description = "Azure region of the account, e.g. \"westeurope\"."
  type        = string
}

variable "retention_days" {
  description = "Time-based retention in days (1-146000) of every blob version in the container, counted from the version's creation: it can be neither overwritten nor deleted until then."
  type        = number

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 146000 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number from 1 to 146000 (the Azure immutability policy maximum)."
  }
}

variable "locked" {
  description = "Lock the container's time-based retention policy. A locked policy can never be removed or shortened (only extended, at most five times), and the container and account cannot be deleted while they hold locked blobs. false leaves it unlocked: principals allowed to change immutability policies can shorten or delete it."
  type        = bool
  default     = true
  nullable    = false
}

variable "key_vault_id" {
  description = "Resource ID of the Key Vault holding key_vault_key_id: the account's identity is granted Key Vault Crypto Service Encryption User on that key."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.KeyVault/vaults/[^/]+$", var.key_vault_id))
    error_message = "The key_vault_id must be a Key Vault resource ID."
  }
}

variable "key_vault_key_id" {
  description = "Versionless Key Vault key ID (https://<vault>.vault.azure.net/keys/<name>) encrypting the account (customer-managed key, following the key's rotation). The vault must be in the account's region."
  type        = string

  validation {
    condition     = can(regex("^https://[a-zA-Z0-9-]{3,24}\\.vault\\.[a-z.]+/keys/[a-zA-Z0-9-]+$", var.key_vault_key_id))
    error_message = "The key_vault_key_id must be a versionless Key Vault key ID such as \"https://my-vault.vault.azure.net/keys/evidence\"."
  }
}

variable "log_analytics_workspace_id" {
  description = "ID of the Log Analytics workspace receiving the blob service's access logs (every read, write and delete)."
  type        = string
}

variable "allowed_ip_ranges" {
  description = "Public IPv4 addresses or CIDR ranges allowed through the account firewall (e.g. CI runners publishing evidence). Everything else is denied, except trusted Azure services (object replication, logging)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "soft_delete_days" {
  description = "Days (1-365) deleted blobs, versions and containers stay recoverable (once their retention has ended)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = var.soft_delete_days >= 1 && var.soft_delete_days <= 365 && floor(var.soft_delete_days) == var.soft_delete_days
    error_message = "The soft_delete_days must be a whole number from 1 to 365."
  }
}

variable "tags" {
  description = "Tags on every taggable resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
