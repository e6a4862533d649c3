# Values come from environments/<env>.yaml and the network and kms stacks
# through infractl; nothing here is environment-specific.

variable "network_id" {
  description = "ID of the VPC network (network stack output network_id); its private services access connection gives the instance its private address."
  type        = string
}

variable "kms_key_id" {
  description = "Crypto key ID of the database key (kms stack output database_key_id): storage and backups. This stack grants the Cloud SQL service agent on it."
  type        = string
}

variable "rpo_minutes" {
  description = "Recovery point objective of the environment in minutes (environments/<env>.yaml recovery.rpo_minutes), at least 5 as on every cloud; it sizes the backup retention (see main.tf)."
  type        = number

  validation {
    condition     = var.rpo_minutes >= 5 && floor(var.rpo_minutes) == var.rpo_minutes
    error_message = "The rpo_minutes must be a whole number of at least 5."
  }
}

variable "engine_version" {
  description = "PostgreSQL version as Cloud SQL names it: \"POSTGRES_16\" (Cloud SQL applies the minor versions itself)."
  type        = string

  validation {
    condition     = var.engine_version == "POSTGRES_16"
    error_message = "The engine_version must be \"POSTGRES_16\" on GCP."
  }
}

variable "instance_class" {
  description = "Cloud SQL machine tier of the Enterprise edition, e.g. \"db-custom-2-8192\" (2 vCPUs, 8 GiB)."
  type        = string
}

variable "allocated_storage_gib" {
  description = "Initial SSD storage in GiB (10-65536)."
  type        = number
}

variable "max_allocated_storage_gib" {
  description = "Storage autoscaling ceiling in GiB, at least allocated_storage_gib (equal turns automatic storage increase off)."
  type        = number
}

variable "multi_az" {
  description = "REGIONAL availability: a synchronous standby in another zone with automatic failover (false: ZONAL)."
  type        = bool
}

variable "deletion_protection" {
  description = "Refuse deletion of the instance, in Terraform and in the Cloud SQL API."
  type        = bool
}

variable "tenant_instances" {
  description = "Dedicated Cloud SQL instances of tier C tenants, by tenant name (environments/<env>.yaml tenants[].database.dedicated_instance): the Enterprise machine tier (instance_class, e.g. \"db-custom-2-8192\"), SSD storage and its automatic-increase limit in GiB, and REGIONAL availability (multi_az). Each gets the instance <environment>-tenant-<name> with one database tenant_<name with - as _>; everything else as the shared instance. Empty: every tenant's database is on the shared instance."
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
}
