output "endpoint" {
  description = "Connection endpoint of the PostgreSQL instance, \"<address>:<port>\"."
  value       = module.rds.endpoint
}

output "address" {
  description = "DNS name of the PostgreSQL instance."
  value       = module.rds.address
}

output "port" {
  description = "PostgreSQL port."
  value       = module.rds.port
}

output "db_instance_identifier" {
  description = "Identifier of the DB instance (<environment>-control-plane)."
  value       = module.rds.db_instance_identifier
}

output "dbi_resource_id" {
  description = "Immutable resource ID of the instance (db-...), as used in rds-db:connect ARNs."
  value       = module.rds.dbi_resource_id
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed Secrets Manager secret of the master user (the password itself is never in state or outputs)."
  value       = module.rds.master_user_secret_arn
}

output "security_group_id" {
  description = "ID of the database security group."
  value       = module.rds.security_group_id
}

output "connect_policy_arns" {
  description = "ARNs of the IAM policies granting rds-db:connect, keyed by database owner (app, temporal)."
  value       = module.rds.connect_policy_arns
}

output "database_bootstrap_sql" {
  description = "Idempotent psql script that creates the owner roles and the databases; run as the master user."
  value       = module.rds.database_bootstrap_sql
}

output "databases" {
  description = "Databases to bootstrap, as a map of database name to owner role."
  value       = module.rds.databases
}

output "backup_retention_days" {
  description = "Automated backup retention in days, derived from rpo_minutes."
  value       = local.backup_retention_days
}

output "tenant_instances" {
  description = "The dedicated instances of tier C tenants, by tenant name: identifier, endpoint (\"<address>:<port>\"), address, port, database (tenant_<name with - as _>, owned by the role of that name) and master_user_secret_arn (the RDS-managed Secrets Manager secret of the instance's master user; only its ARN). Empty when no tenant has one."
  value = {
    for name, db in module.tenant_rds : name => {
      identifier             = db.db_instance_identifier
      endpoint               = db.endpoint
      address                = db.address
      port                   = db.port
      database               = local.tenant_databases[name]
      master_user_secret_arn = db.master_user_secret_arn
    }
  }
}

output "tenant_backup_bucket" {
  description = "Name of the S3 bucket of tenant backups (bkp-<account_id>-<region>-<environment>): SSE-KMS under the database key, versioned, TLS-only."
  value       = module.tenant_backups.bucket_name
}

output "tenant_backup_bucket_arn" {
  description = "ARN of the S3 bucket of tenant backups."
  value       = module.tenant_backups.bucket_arn
}
