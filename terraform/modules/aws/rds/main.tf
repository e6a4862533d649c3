locals {
  # Master user of the instance. Its password is generated and rotated by RDS
  # in Secrets Manager (manage_master_user_password): it is never an input and
  # never in the Terraform state.
  master_username = "dbadmin"

  port = 5432

  # RDS only autoscales storage when the ceiling is above the allocation;
  # 0 switches autoscaling off.
  max_allocated_storage = var.max_allocated_storage_gib > var.allocated_storage_gib ? var.max_allocated_storage_gib : 0
}

################################################################################
# Network placement
################################################################################

resource "aws_db_subnet_group" "this" {
  name        = var.identifier
  description = "Subnets of the ${var.identifier} PostgreSQL instance."
  subnet_ids  = var.subnet_ids

  tags = merge(var.tags, { Name = var.identifier })
}

# No egress rule: the provider removes the default allow-all egress rule, and
# RDS needs none to serve clients.
resource "aws_security_group" "this" {
  name        = "${var.identifier}-postgres"
  description = "PostgreSQL ${var.identifier}: TCP ${local.port} from the allowed CIDR blocks only."
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.identifier}-postgres" })
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  for_each = toset(var.allowed_cidr_blocks)

  security_group_id = aws_security_group.this.id
  description       = "PostgreSQL from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = local.port
  to_port           = local.port
  cidr_ipv4         = each.value

  tags = merge(var.tags, { Name = "${var.identifier}-postgres-${each.value}" })
}

################################################################################
# Parameters
################################################################################

resource "aws_db_parameter_group" "this" {
  name        = "${var.identifier}-postgres16"
  family      = "postgres16"
  description = "PostgreSQL 16 parameters of ${var.identifier}: TLS only, slow-query and connection logging."

  # Clients must use TLS (the connection is refused otherwise).
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Log every statement that runs longer than 1 s.
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  # Lock waits longer than deadlock_timeout (1 s).
  parameter {
    name  = "log_lock_waits"
    value = "1"
  }

  # Schema changes are audited in the log; data statements are not (they may hold personal data).
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  # Temporary files of 10 MiB and more (a sign of work_mem pressure).
  parameter {
    name  = "log_temp_files"
    value = "10240"
  }

  tags = merge(var.tags, { Name = "${var.identifier}-postgres16" })
}

################################################################################
# Instance
################################################################################

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_118:Performance Insights (enabled below) gives DB load and wait events; OS-level enhanced monitoring needs an extra IAM role and per-second CloudWatch metrics and is not enabled yet
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  port           = local.port

  # Storage: gp3, encrypted with the CMK, autoscaling up to the ceiling.
  storage_type          = "gp3"
  allocated_storage     = var.allocated_storage_gib
  max_allocated_storage = local.max_allocated_storage
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  # Credentials: RDS generates the master password into a Secrets Manager
  # secret encrypted with the CMK; applications log in with IAM tokens.
  db_name                             = var.db_name
  username                            = local.master_username
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = var.kms_key_arn
  iam_database_authentication_enabled = true

  # Network: private only, TLS enforced by the parameter group.
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  multi_az               = var.multi_az
  ca_cert_identifier     = "rds-ca-rsa2048-g1"
  parameter_group_name   = aws_db_parameter_group.this.name

  # Backups: automated backups give point-in-time restore to any second of
  # the retention window (RPO ~5 minutes: the transaction log upload interval).
  backup_retention_period = var.backup_retention_days
  copy_tags_to_snapshot   = true
  # A protected (production-like) instance keeps its automated backups and
  # gets a final snapshot when it is deleted; an unprotected one goes cleanly.
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.deletion_protection
  final_snapshot_identifier = var.deletion_protection ? "${var.identifier}-final" : null
  delete_automated_backups  = !var.deletion_protection

  # Observability: Performance Insights (free 7-day tier) with the CMK, logs
  # to CloudWatch Logs; Enhanced Monitoring stays off (it needs an IAM role).
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 0
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]

  # Upgrades: minor versions in the maintenance window, never a major one
  # implicitly; changes wait for the maintenance window too.
  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  apply_immediately           = false

  tags = merge(var.tags, { Name = var.identifier })
}
