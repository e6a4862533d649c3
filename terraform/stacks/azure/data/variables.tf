# Values come from environments/<env>.yaml and the network and kms stacks
# through infractl; nothing here is environment-specific. The postgres module
# validates every value further.

variable "virtual_network_id" {
  description = "ID of the VNet (network stack output network_id): the server's private DNS zone is linked to it."
  type        = string
}

variable "postgres_subnet_id" {
  description = "ID of the subnet delegated to PostgreSQL Flexible Server (network stack output postgres_subnet_id)."
  type        = string
}

variable "key_vault_id" {
  description = "Resource ID of the kms stack's Key Vault (kms stack output key_vault_id): the server's identity is granted the database key in it."
  type        = string
}

variable "database_key_id" {
  description = "Versionless ID of the key encrypting data, WAL and backups (kms stack output database_key_id)."
  type        = string
}

variable "geo_backup" {
  description = "Geo-redundant backups for an environment that needs DR: the geo-paired region (location), a Key Vault there (key_vault_id) and a key in it (key_vault_key_id) that encrypts the backup copies. null (the default) keeps backups in the region. Fixed at server creation."
  type = object({
    location         = string
    key_vault_id     = string
    key_vault_key_id = string
  })
  default = null
}

variable "rpo_minutes" {
  description = "Recovery point objective of the environment in minutes (environments/<env>.yaml recovery.rpo_minutes). Point-in-time restore gives ~5 minutes at best, so at least 5; it also sizes the backup retention (see main.tf)."
  type        = number

  validation {
    condition     = var.rpo_minutes >= 5 && floor(var.rpo_minutes) == var.rpo_minutes
    error_message = "The rpo_minutes must be a whole number of at least 5: point-in-time restore cannot promise less."
  }
}

variable "engine_version" {
  description = "PostgreSQL major version as Azure names it: \"16\"."
  type        = string
}

variable "instance_class" {
  description = "Server SKU, e.g. \"GP_Standard_D2ds_v5\"."
  type        = string
}

variable "allocated_storage_gib" {
  description = "Initial storage in GiB, rounded up to the next Azure size (32, 64, 128, 256, 512, 1024, ... GiB)."
  type        = number
}

variable "max_allocated_storage_gib" {
  description = "Storage autoscaling ceiling in GiB: above allocated_storage_gib turns Azure storage auto-grow on (Azure has no ceiling of its own: see README); equal turns it off."
  type        = number

  validation {
    condition     = var.max_allocated_storage_gib >= var.allocated_storage_gib
    error_message = "The max_allocated_storage_gib must be at least allocated_storage_gib."
  }
}

variable "multi_az" {
  description = "Run a synchronous standby in another availability zone (zone-redundant high availability)."
  type        = bool
}

variable "deletion_protection" {
  description = "Put a CanNotDelete lock on the server: deleting it (destroy included) fails until the lock is removed."
  type        = bool
}

variable "tenant_instances" {
  description = "Dedicated servers of tier C tenants, by tenant name (environments/<env>.yaml tenants[].database.dedicated_instance): the server SKU (instance_class, e.g. \"GP_Standard_D2ds_v5\"), storage in GiB (rounded up to the next Azure size), a ceiling above it turns auto-grow on, and zone-redundant HA (multi_az). Each gets the server <environment>-tenant-<name>-<hash> with one database tenant_<name with - as _>; everything else as the shared server. Empty: every tenant's database is on the shared server."
  type = map(object({
    instance_class            = string
    allocated_storage_gib     = number
    max_allocated_storage_gib = number
    multi_az                  = bool
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for name in keys(var.tenant_instances) : can(regex("^[a-z]([a-z0-9-]{0,16}[a-z0-9])?$", name))])
    error_message = "Tenant names must be 1-18 characters of lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit."
  }

  validation {
    condition     = alltrue([for t in values(var.tenant_instances) : t.max_allocated_storage_gib >= t.allocated_storage_gib])
    error_message = "Each tenant instance's max_allocated_storage_gib must be at least its allocated_storage_gib."
  }
}
