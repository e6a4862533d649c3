output "endpoint" {
  description = "Connection endpoint of the instance, \"<address>:<port>\"."
  value       = try(aws_db_instance.this.endpoint, null)
}

output "address" {
  description = "DNS name of the instance (resolves to private addresses only)."
  value       = try(aws_db_instance.this.address, null)
}

output "port" {
  description = "PostgreSQL port."
  value       = try(aws_db_instance.this.port, null)
}

output "db_instance_identifier" {
  description = "Identifier of the DB instance."
  value       = try(aws_db_instance.this.identifier, null)
}

output "dbi_resource_id" {
  description = "Region-unique, immutable resource ID of the instance (db-...), used in rds-db:connect ARNs and CloudWatch/PI dimensions."
  value       = try(aws_db_instance.this.resource_id, null)
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret that RDS manages for the master user (username and password; rotated by RDS). Only the ARN is exposed, never the password."
  value       = try(aws_db_instance.this.master_user_secret[0].secret_arn, null)
}

output "security_group_id" {
  description = "ID of the instance's security group (TCP 5432 from allowed_cidr_blocks only)."
  value       = try(aws_security_group.this.id, null)
}

output "parameter_group_name" {
  description = "Name of the DB parameter group (family postgres16)."
  value       = try(aws_db_parameter_group.this.name, null)
}

output "connect_policy_arns" {
  description = "ARNs of the IAM policies granting rds-db:connect, keyed by database owner (e.g. { app = ..., temporal = ... })."
  value       = { for owner, p in aws_iam_policy.connect : owner => p.arn }
}

output "iam_connect_policy_json" {
  description = "The IAM policy documents of connect_policy_arns, keyed by database owner, for callers that prefer inline policies."
  value       = local.connect_policy_json
}

output "database_bootstrap_sql" {
  description = "Idempotent psql script (uses \\gexec) that creates the owner roles (LOGIN, rds_iam) and the databases; run it as the master user against the postgres database."
  value       = local.database_bootstrap_sql
}

output "databases" {
  description = "Databases to bootstrap, as a map of database name to owner role."
  value       = { for db, v in var.databases : db => v.owner }
}
