variable "name" {
  description = "Name of the PostgreSQL Flexible Server (also <name>.postgres.database.azure.com, so globally unique) and prefix of its identities, DNS zone and lock. Lowercase letters, digits and hyphens, 3-50 characters, starting with a letter, not ending with a hyphen."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,48}[a-z0-9]$", var.name))
    error_message = "The name must be 3-50 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "resource_group_name" {
  description = "Name of the existing resource group of the server and everything the module creates."
  type        = string
}

variable "location" {
  description = "Azure region, e.g. \"westeurope\"."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major version as Azure names it: \"16\" (Azure applies minor versions in the maintenance window)."
  type        = string

  validation {
    condition     = var.engine_version == "16"
    error_message = "The engine_version must be \"16\" (PostgreSQL 16; Azure takes the major version only)."
  }
}

variable "sku_name" {
  description = "Server SKU, tier and VM size, e.g. \"GP_Standard_D2ds_v5\" (General Purpose) or \"MO_Standard_E4ds_v5\" (Memory Optimized). Burstable (B_) has no zone-redundant high availability."
  type        = string

  validation {
    condition     = can(regex("^(B|GP|MO)_Standard_[A-Za-z0-9_]+$", var.sku_name))
    error_message = "The sku_name must be an Azure PostgreSQL Flexible Server SKU such as \"GP_Standard_D2ds_v5\" (B_, GP_ or MO_ prefix)."
  }
}

variable "storage_gib" {
  description = "Initial storage in GiB. Azure offers fixed sizes (32, 64, 128, 256, 512, 1024, 2048, 4095, 4096, 8192, 16384, 32767 GiB): the next size up is used. Storage only grows, never shrinks."
  type        = number

  validation {
    condition     = var.storage_gib >= 1 && var.storage_gib <= 32767
    error_message = "The storage_gib must be from 1 to 32767."
  }
}

variable "auto_grow_enabled" {
  description = "Whether Azure grows the storage by itself when it runs low (no ceiling other than the largest size)."
  type        = bool
  default     = true
  nullable    = false
}

variable "zone_redundant_ha" {
  description = "Run a synchronous standby in another availability zone with automatic failover (high_availability mode ZoneRedundant). Not available with Burstable SKUs."
  type        = bool
  default     = true
  nullable    = false
}

variable "zone" {
  description = "Availability zone of the primary (\"1\", \"2\" or \"3\"); the standby takes another. Azure swaps them on failover; the module ignores that drift."
  type        = string
  default     = "1"
  nullable    = false

  validation {
    condition     = contains(["1", "2", "3"], var.zone)
    error_message = "The zone must be \"1\", \"2\" or \"3\"."
  }
}

variable "backup_retention_days" {
  description = "Days (7-35) of automated backups; point-in-time restore reaches any second inside this window."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "The backup_retention_days must be a whole number from 7 to 35 (the Azure PostgreSQL Flexible Server range)."
  }
}

variable "geo_backup" {
  description = "Geo-redundant backups to the region's geo-paired region, encrypted there with a key of that region: location (the paired region), key_vault_id (a Key Vault in it) and key_vault_key_id (versionless ID of a key in that vault). null keeps backups in the server's region. Fixed at server creation."
  type = object({
    location         = string
    key_vault_id     = string
    key_vault_key_id = string
  })
  default = null

  validation {
    condition = var.geo_backup == null || (
      can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.KeyVault/vaults/[^/]+$", var.geo_backup.key_vault_id)) &&
      can(regex("^https://[a-zA-Z0-9-]{3,24}\\.vault\\.[a-z.]+/keys/[a-zA-Z0-9-]+$", var.geo_backup.key_vault_key_id))
    )
    error_message = "The geo_backup key_vault_id must be a Key Vault resource ID and key_vault_key_id a versionless key ID."
  }
}

variable "key_vault_id" {
  description = "Resource ID of the Key Vault holding key_vault_key_id: the server's identity is granted Key Vault Crypto Service Encryption User on that key."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.KeyVault/vaults/[^/]+$", var.key_vault_id))
    error_message = "The key_vault_id must be a Key Vault resource ID."
  }
}

variable "key_vault_key_id" {
  description = "Versionless Key Vault key ID (https://<vault>.vault.azure.net/keys/<name>) encrypting the data, WAL and backups (customer-managed key; the server follows the key's rotation). Fixed at server creation."
  type        = string

  validation {
    condition     = can(regex("^https://[a-zA-Z0-9-]{3,24}\\.vault\\.[a-z.]+/keys/[a-zA-Z0-9-]+$", var.key_vault_key_id))
    error_message = "The key_vault_key_id must be a versionless Key Vault key ID such as \"https://my-vault.vault.azure.net/keys/database\"."
  }
}

variable "delegated_subnet_id" {
  description = "ID of the subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers (VNet injection: the server has no public endpoint)."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Network/virtualNetworks/[^/]+/subnets/[^/]+$", var.delegated_subnet_id))
    error_message = "The delegated_subnet_id must be a subnet resource ID."
  }
}

variable "virtual_network_id" {
  description = "ID of the VNet the private DNS zone of the server is linked to (the clients' VNet)."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Network/virtualNetworks/[^/]+$", var.virtual_network_id))
    error_message = "The virtual_network_id must be a VNet resource ID."
  }
}

variable "deletion_protection" {
  description = "Put a CanNotDelete management lock on the server: Azure refuses to delete it (and Terraform with it) until the lock is removed."
  type        = bool
  default     = true
  nullable    = false
}

variable "databases" {
  description = "Databases to create inside the server, keyed by database name, with the role that owns each. Terraform cannot create them (no postgresql provider): the module renders them as idempotent SQL (output database_bootstrap_sql) and creates one Entra managed identity per owner, which the owner role is mapped to. Names: lowercase letters, digits and underscores, starting with a letter, at most 63 characters."
  type        = map(object({ owner = string }))
  nullable    = false
  default = {
    app                 = { owner = "app" }
    temporal            = { owner = "temporal" }
    temporal_visibility = { owner = "temporal" }
  }

  validation {
    condition     = alltrue([for db, v in var.databases : can(regex("^[a-z][a-z0-9_]{0,62}$", db)) && can(regex("^[a-z][a-z0-9_]{0,62}$", v.owner))])
    error_message = "Database and owner names must be 1-63 characters of lowercase letters, digits and underscores, starting with a letter."
  }

  validation {
    condition     = alltrue([for db in keys(var.databases) : !contains(["postgres", "template0", "template1", "azure_maintenance", "azure_sys"], db)])
    error_message = "The databases postgres, template0, template1, azure_maintenance and azure_sys exist already and cannot be declared."
  }

  validation {
    condition = alltrue([
      for v in values(var.databases) :
      !contains(["postgres", "public", "azuresu", "azure_pg_admin", "replication"], v.owner) && !startswith(v.owner, "pg_") && !startswith(v.owner, "azure")
    ])
    error_message = "An owner must not be a reserved or built-in role: postgres, public, azuresu, azure_pg_admin, replication, pg_* or azure*."
  }
}

variable "tags" {
  description = "Tags on every taggable resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
