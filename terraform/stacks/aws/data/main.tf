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
