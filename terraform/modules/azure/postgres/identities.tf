################################################################################
# Entra identities: the administrator and one per database owner
#
# No passwords exist. The bootstrap job logs in as the Entra administrator
# (a user-assigned identity, federated to the job's service account), and the
# applications log in as the owner identities with Entra tokens.
################################################################################

locals {
  # Each distinct owner is one PostgreSQL login role mapped to one identity.
  owners = toset([for db in values(var.databases) : db.owner])
}

resource "azurerm_user_assigned_identity" "admin" {
  name                = "${var.name}-postgres-admin"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

resource "azurerm_postgresql_flexible_server_active_directory_administrator" "this" {
  server_name         = azurerm_postgresql_flexible_server.this.name
  resource_group_name = var.resource_group_name
  tenant_id           = data.azurerm_client_config.current.tenant_id
  object_id           = azurerm_user_assigned_identity.admin.principal_id
  principal_name      = azurerm_user_assigned_identity.admin.name
  principal_type      = "ServicePrincipal"
}

resource "azurerm_user_assigned_identity" "owner" {
  for_each = local.owners

  name                = "${var.name}-postgres-${replace(each.key, "_", "-")}"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}
