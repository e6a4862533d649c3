output "endpoint" {
  description = "Connection endpoint of the server, \"<address>:<port>\"."
  value       = module.postgres.endpoint
}

output "address" {
  description = "FQDN of the server (resolves to its private address inside the VNet)."
  value       = module.postgres.address
}

output "port" {
  description = "PostgreSQL port."
  value       = module.postgres.port
}

output "databases" {
  description = "Databases to bootstrap, as a map of database name to owner role."
  value       = module.postgres.databases
}

output "database_bootstrap_sql" {
  description = "Idempotent psql script that creates the owner roles (mapped to their Entra identities) and the databases; run as the Entra administrator (admin_identity)."
  value       = module.postgres.database_bootstrap_sql
}

output "backup_retention_days" {
  description = "Automated backup retention in days, derived from rpo_minutes."
  value       = local.backup_retention_days
}

output "server_id" {
  description = "Resource ID of the PostgreSQL Flexible Server."
  value       = module.postgres.server_id
}

output "server_name" {
  description = "Name of the server (<environment>-pg-<hash>)."
  value       = module.postgres.server_name
}

output "admin_identity" {
  description = "The server's Entra administrator (user-assigned identity): name, client_id, principal_id, id."
  value       = module.postgres.admin_identity
}

output "owner_identities" {
  description = "The Entra managed identity of each database owner (client_id, principal_id, id), by owner (app, temporal)."
  value       = module.postgres.owner_identities
}

output "resource_group_name" {
  description = "Resource group of the server (<environment>-data)."
  value       = azurerm_resource_group.this.name
}

output "tenant_instances" {
  description = "The dedicated servers of tier C tenants, by tenant name: server_name, endpoint (\"<address>:<port>\"), address, port, database (tenant_<name with - as _>, owned by the role of that name) and admin_identity (the server's Entra administrator: no password exists). Empty when no tenant has one."
  value = {
    for name, pg in module.tenant_postgres : name => {
      server_name    = pg.server_name
      endpoint       = pg.endpoint
      address        = pg.address
      port           = pg.port
      database       = local.tenant_databases[name]
      admin_identity = pg.admin_identity
    }
  }
}
