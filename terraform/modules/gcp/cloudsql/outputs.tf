output "instance_name" {
  description = "Name of the Cloud SQL instance."
  value       = try(google_sql_database_instance.this.name, null)
}

output "connection_name" {
  description = "Connection name of the instance (<project>:<region>:<name>), for the Cloud SQL Auth Proxy and connectors."
  value       = try(google_sql_database_instance.this.connection_name, null)
}

output "address" {
  description = "Private IP address of the instance (no public address exists)."
  value       = try(google_sql_database_instance.this.private_ip_address, null)
}

output "port" {
  description = "PostgreSQL port."
  value       = local.port
}

output "endpoint" {
  description = "Connection endpoint of the instance, \"<address>:<port>\"."
  value       = try("${google_sql_database_instance.this.private_ip_address}:${local.port}", null)
}

output "service_account_emails" {
  description = "Email of each database owner's Google service account, by owner: grant a Kubernetes service account roles/iam.workloadIdentityUser on it to let the workload log in."
  value       = try({ for owner, sa in google_service_account.owner : owner => sa.email }, {})
}

output "iam_database_users" {
  description = "PostgreSQL user name of each owner's IAM database user (the service account email without .gserviceaccount.com), by owner."
  value       = local.iam_users
}

output "database_bootstrap_sql" {
  description = "Idempotent psql script (uses \\gexec) that creates the owner roles and the databases and makes each IAM database user a member of its owner role; run it as the postgres user against the postgres database."
  value       = local.database_bootstrap_sql
}

output "databases" {
  description = "Databases to bootstrap, as a map of database name to owner role."
  value       = { for db, v in var.databases : db => v.owner }
}

output "cloudsql_service_agent" {
  description = "Email of the Cloud SQL service agent, which holds roles/cloudkms.cryptoKeyEncrypterDecrypter on the key."
  value       = try(google_project_service_identity.cloudsql.email, null)
}

output "kms_key_id" {
  description = "The key of the instance, read through the module's key grant when it makes one: pass it as kms_key_id to the project's other instances (grant_kms_key = false) so that they wait for the grant."
  value       = var.grant_kms_key ? google_kms_crypto_key_iam_member.cloudsql[0].crypto_key_id : var.kms_key_id
}
