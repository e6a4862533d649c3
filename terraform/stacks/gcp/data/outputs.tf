output "endpoint" {
  description = "Connection endpoint of the PostgreSQL instance, \"<private address>:<port>\"."
  value       = module.cloudsql.endpoint
}

output "address" {
  description = "Private IP address of the PostgreSQL instance (no public address exists)."
  value       = module.cloudsql.address
}

output "port" {
  description = "PostgreSQL port."
  value       = module.cloudsql.port
}

output "instance_name" {
  description = "Name of the Cloud SQL instance (<environment>-control-plane)."
  value       = module.cloudsql.instance_name
}

output "connection_name" {
  description = "Connection name of the instance (<project>:<region>:<name>) for the Cloud SQL Auth Proxy and connectors."
  value       = module.cloudsql.connection_name
}

output "service_account_emails" {
  description = "Google service account of each database owner (app, temporal), by owner: bind the workloads' Kubernetes service accounts to them with roles/iam.workloadIdentityUser."
  value       = module.cloudsql.service_account_emails
}

output "iam_database_users" {
  description = "PostgreSQL user name of each owner's IAM database user, by owner."
  value       = module.cloudsql.iam_database_users
}

output "database_bootstrap_sql" {
  description = "Idempotent psql script that creates the owner roles and the databases and makes the IAM database users members of their owner roles; run as the postgres user."
  value       = module.cloudsql.database_bootstrap_sql
}

output "databases" {
  description = "Databases to bootstrap, as a map of database name to owner role."
  value       = module.cloudsql.databases
}

output "backup_retention_days" {
  description = "Daily automated backups kept, derived from rpo_minutes."
  value       = local.backup_retention_days
}

output "transaction_log_retention_days" {
  description = "Days of transaction logs kept for point-in-time recovery (the restore window; at most 7 on the Enterprise edition)."
  value       = local.transaction_log_retention_days
}

output "tenant_instances" {
  description = "The dedicated Cloud SQL instances of tier C tenants, by tenant name: instance_name, endpoint (\"<private address>:<port>\"), address, port, database (tenant_<name with - as _>, owned by the role of that name) and connection_name (for the Cloud SQL Auth Proxy; the postgres password is set out of band, never in Terraform). Empty when no tenant has one."
  value = {
    for name, sql in module.tenant_cloudsql : name => {
      instance_name   = sql.instance_name
      endpoint        = sql.endpoint
      address         = sql.address
      port            = sql.port
      database        = local.tenant_databases[name]
      connection_name = sql.connection_name
    }
  }
}
