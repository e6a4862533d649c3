variable "identifier" {
  description = "DB instance identifier; also names the subnet group, security group, parameter group, final snapshot (<identifier>-final) and IAM policies (<identifier>-connect-<owner>). Lowercase letters, digits and hyphens, 1-63 characters, starting with a letter, not ending with a hyphen, no two consecutive hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.identifier)) && !strcontains(var.identifier, "--")
    error_message = "The identifier must be 1-63 characters of lowercase letters, digits and hyphens, start with a letter, not end with a hyphen and not contain two consecutive hyphens."
  }
}

variable "engine_version" {
  description = "PostgreSQL engine version, major 16 with a minor (e.g. \"16.4\"). With auto_minor_version_upgrade AWS may move the instance to a newer 16.x: raise this value to match afterwards (see README)."
  type        = string

  validation {
    condition     = can(regex("^16\\.[0-9]+$", var.engine_version))
    error_message = "The engine_version must be a PostgreSQL 16 version such as \"16.4\" (the parameter group family is postgres16)."
  }
}

variable "instance_class" {
  description = "DB instance class, e.g. \"db.t4g.micro\", \"db.t4g.medium\" or \"db.r6g.large\" (Performance Insights, always on, has no instance class restriction on RDS for PostgreSQL; on MySQL and MariaDB it has)."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9-]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "The instance_class must be an RDS instance class such as \"db.t4g.medium\" (it starts with \"db.\")."
  }
}

variable "allocated_storage_gib" {
  description = "Initial gp3 storage in GiB (20-65536)."
  type        = number

  validation {
    condition     = var.allocated_storage_gib >= 20 && var.allocated_storage_gib <= 65536 && floor(var.allocated_storage_gib) == var.allocated_storage_gib
    error_message = "The allocated_storage_gib must be a whole number from 20 to 65536 (gp3 limits for PostgreSQL)."
  }
}

variable "max_allocated_storage_gib" {
  description = "Upper limit in GiB for storage autoscaling, at least allocated_storage_gib and at most 65536. Equal to allocated_storage_gib turns storage autoscaling off."
  type        = number

  validation {
    condition     = var.max_allocated_storage_gib >= var.allocated_storage_gib && var.max_allocated_storage_gib <= 65536 && floor(var.max_allocated_storage_gib) == var.max_allocated_storage_gib
    error_message = "The max_allocated_storage_gib must be a whole number of GiB, at least allocated_storage_gib and at most 65536."
  }
}

variable "multi_az" {
  description = "Run a synchronous standby in a second AZ (automatic failover)."
  type        = bool
  default     = true
  nullable    = false
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key (key ARN, not an alias) that encrypts the storage, automated backups and snapshots, Performance Insights and the Secrets Manager master secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\" (not an alias)."
  }
}

variable "subnet_ids" {
  description = "IDs of the subnets of the DB subnet group: at least two, in at least two AZs (RDS refuses a subnet group that covers a single AZ; the module can only check the count)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(distinct(var.subnet_ids)) >= 2 && length(distinct(var.subnet_ids)) == length(var.subnet_ids)
    error_message = "At least two distinct subnet IDs are needed: a DB subnet group must span two availability zones."
  }

  validation {
    condition     = alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "Each subnet ID must look like \"subnet-0123456789abcdef0\"."
  }
}

variable "vpc_id" {
  description = "ID of the VPC of the subnets; the security group is created in it."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must look like \"vpc-0123456789abcdef0\"."
  }
}

variable "allowed_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to reach PostgreSQL (TCP 5432), e.g. the private subnets of the workloads. At least one; a /0 (the whole internet) is refused."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.allowed_cidr_blocks) >= 1
    error_message = "At least one allowed CIDR block is needed, otherwise nothing can reach the database."
  }

  validation {
    condition     = alltrue([for c in var.allowed_cidr_blocks : can(cidrnetmask(c))])
    error_message = "Each allowed CIDR block must be an IPv4 CIDR such as \"10.10.0.0/19\"."
  }

  validation {
    condition     = alltrue([for c in var.allowed_cidr_blocks : try(tonumber(split("/", c)[1]) > 0, false)])
    error_message = "The allowed CIDR blocks must not contain a /0 such as \"0.0.0.0/0\": the database is never open to the internet."
  }
}

variable "backup_retention_days" {
  description = "Days of automated backups (1-35); point-in-time restore reaches any second inside this window. 0 (no backups) is refused."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "The backup_retention_days must be a whole number from 1 to 35 (0 would disable automated backups and point-in-time restore)."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the instance. Also selects the final snapshot: true takes <identifier>-final and keeps the automated backups on delete, false deletes without a snapshot. To delete a protected instance, turn the protection off outside Terraform, then destroy (see README)."
  type        = bool
  default     = true
  nullable    = false
}

variable "databases" {
  description = "Databases to create inside the instance, keyed by database name, with the role that owns each. Terraform cannot create them (no postgresql provider): the module renders them as idempotent SQL (output database_bootstrap_sql) and one IAM connect policy per owner. Names: lowercase letters, digits and underscores, starting with a letter, at most 63 characters."
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
    condition     = alltrue([for db in keys(var.databases) : !contains(["postgres", "template0", "template1", "rdsadmin"], db)])
    error_message = "The databases postgres, template0, template1 and rdsadmin exist already and cannot be declared."
  }

  validation {
    condition = alltrue([
      for v in values(var.databases) :
      !contains(["postgres", "public", "dbadmin"], v.owner) && !startswith(v.owner, "pg_") && !startswith(v.owner, "rds")
    ])
    error_message = "An owner must not be a reserved or built-in role: postgres, public, the master user dbadmin, pg_* or rds*."
  }

  validation {
    condition     = alltrue([for v in values(var.databases) : length("${var.identifier}-connect-${v.owner}") <= 128])
    error_message = "The IAM policy name <identifier>-connect-<owner> must be at most 128 characters: shorten the owner name."
  }
}

variable "db_name" {
  description = "A database RDS creates with the instance (the API's DBName), one of databases: owned by the master user until database_bootstrap_sql hands it to its owner. null (the default) creates none; every database then comes from database_bootstrap_sql. Changing it replaces the instance."
  type        = string
  default     = null

  validation {
    condition     = var.db_name == null || contains(keys(var.databases), coalesce(var.db_name, "-"))
    error_message = "The db_name must be one of the keys of databases, so that database_bootstrap_sql gives it its owner."
  }
}

variable "tags" {
  description = "Tags merged onto every resource, in addition to the provider's default_tags. The module sets Name itself."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and must not start with \"aws:\"; tag values must be at most 256 characters."
  }
}
