# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "vpc_id" {
  description = "ID of the VPC (network stack output network_id); the database security group is created in it."
  type        = string
}

variable "database_subnet_ids" {
  description = "IDs of the database subnets (network stack output database_subnet_ids), at least two in different AZs."
  type        = list(string)
  nullable    = false
}

variable "allowed_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to reach PostgreSQL on 5432 (network stack output private_subnet_cidrs: the workloads' subnets). A /0 is refused by the rds module."
  type        = list(string)
  nullable    = false
}

variable "kms_key_arn" {
  description = "ARN of the database KMS key (kms stack output database_key_id): storage, snapshots, Performance Insights, the master secret and the tenant backup bucket."
  type        = string
}

variable "rpo_minutes" {
  description = "Recovery point objective of the environment in minutes (environments/<env>.yaml recovery.rpo_minutes). Point-in-time restore gives ~5 minutes at best, so at least 5; it also sizes the backup retention (see main.tf)."
  type        = number

  validation {
    condition     = var.rpo_minutes >= 5 && floor(var.rpo_minutes) == var.rpo_minutes
    error_message = "The rpo_minutes must be a whole number of at least 5: RDS point-in-time restore cannot promise less (transaction logs are uploaded every 5 minutes)."
  }
}

variable "engine_version" {
  description = "PostgreSQL 16 engine version, e.g. \"16.4\" (validated by the rds module)."
  type        = string
}

variable "instance_class" {
  description = "DB instance class, e.g. \"db.t4g.medium\"."
  type        = string
}

variable "allocated_storage_gib" {
  description = "Initial gp3 storage in GiB (20-65536)."
  type        = number
}

variable "max_allocated_storage_gib" {
  description = "Storage autoscaling ceiling in GiB, at least allocated_storage_gib (equal turns autoscaling off)."
  type        = number
}

variable "multi_az" {
  description = "Run a synchronous standby in a second AZ."
  type        = bool
}

variable "deletion_protection" {
  description = "Refuse deletion of the instance; true also takes the final snapshot <environment>-control-plane-final and keeps the automated backups on delete (false deletes without a snapshot: see README before destroying a protected instance)."
  type        = bool
}

variable "tenant_instances" {
  description = "Dedicated database instances of tier C tenants, by tenant name (environments/<env>.yaml tenants[].database.dedicated_instance, passed as the env model's tenant_instances): the cloud's instance class, initial storage and autoscaling ceiling in GiB, and Multi-AZ. Each gets the instance <environment>-tenant-<name> with one database tenant_<name with - as _>; everything else as the shared instance. Empty: every tenant's database is on the shared instance."
  type = map(object({
    instance_class            = string
    allocated_storage_gib     = number
    max_allocated_storage_gib = number
    multi_az                  = bool
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for name in keys(var.tenant_instances) : can(regex("^[a-z]([a-z0-9-]{0,16}[a-z0-9])?$", name)) && !strcontains(name, "--")])
    error_message = "Tenant names must be 1-18 characters of lowercase letters, digits and hyphens, start with a letter, end with a letter or digit and not contain two consecutive hyphens."
  }
}
