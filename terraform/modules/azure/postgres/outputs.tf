output "server_id" {
  description = "Resource ID of the PostgreSQL Flexible Server."
  value       = try(azurerm_postgresql_flexible_server.this.id, null)
}

output "server_name" {
  description = "Name of the server."
  value       = try(azurerm_postgresql_flexible_server.this.name, null)
}

output "address" {
  description = "FQDN of the server (<name>.postgres.database.azure.com, resolving to its private address through the linked private DNS zone)."
  value       = try(azurerm_postgresql_flexible_server.this.fqdn, null)
}

output "port" {
  description = "PostgreSQL port."
  value       = local.port
}

output "endpoint" {
  description = "Connection endpoint, \"<address>:<port>\"."
  value       = try(format("%s:%d", azurerm_postgresql_flexible_server.this.fqdn, local.port), null)
}

output "storage_mb" {
  description = "Provisioned storage in MiB (storage_gib rounded up to an Azure size)."
  value       = local.storage_mb
}

output "databases" {
  description = "Databases to bootstrap, as a map of database name to owner role."
  value       = { for db, v in var.databases : db => v.owner }
}

output "database_bootstrap_sql" {
  description = "Idempotent psql script (uses \\gexec) that creates the owner roles (mapped to their Entra identities) and the databases; run it as the Entra administrator against the postgres database."
  value       = local.database_bootstrap_sql
}

output "admin_identity" {
  description = "The Entra administrator of the server (user-assigned identity): name (the PostgreSQL user name), client_id (for workload identity), principal_id and id."
  value = try({
    name         = azurerm_user_assigned_identity.admin.name
    client_id    = azurerm_user_assigned_identity.admin.client_id
    principal_id = azurerm_user_assigned_identity.admin.principal_id
    id           = azurerm_user_assigned_identity.admin.id
  }, null)
}

output "owner_identities" {
  description = "The Entra managed identity of each database owner, by owner (client_id for workload identity, principal_id, id). The applications log in as the owner role with that identity's tokens."
  value = try({
    for owner, identity in azurerm_user_assigned_identity.owner : owner => {
      client_id    = identity.client_id
      principal_id = identity.principal_id
      id           = identity.id
    }
  }, {})
}
