data "azurerm_client_config" "current" {}

locals {
  port = 5432

  # Azure's storage sizes in MiB; the first one that holds storage_gib.
  storage_sizes_mb = [32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304, 8388608, 16777216, 33553408]
  storage_mb       = [for s in local.storage_sizes_mb : s if s >= var.storage_gib * 1024][0]

  # https://<vault>.vault.azure.net/keys/<name> -> <name>
  key_name     = element(split("/", var.key_vault_key_id), length(split("/", var.key_vault_key_id)) - 1)
  geo_key_name = var.geo_backup == null ? null : element(split("/", var.geo_backup.key_vault_key_id), length(split("/", var.geo_backup.key_vault_key_id)) - 1)

  # Server parameters besides require_secure_transport (below): TLS 1.2+,
  # connection and slow-query logging.
  configurations = {
    ssl_min_protocol_version     = "TLSv1.2"
    log_connections              = "on"
    log_disconnections           = "on"
    log_checkpoints              = "on"
    log_lock_waits               = "on"
    log_min_duration_statement   = "1000"
    log_statement                = "ddl"
    "connection_throttle.enable" = "on"
  }
}

################################################################################
# Customer-managed key: the server reads it with a user-assigned identity
################################################################################

resource "azurerm_user_assigned_identity" "server" {
  name                = "${var.name}-postgres-cmk"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

resource "azurerm_role_assignment" "server_key" {
  scope                = "${var.key_vault_id}/keys/${local.key_name}"
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.server.principal_id
  principal_type       = "ServicePrincipal"
  description          = "PostgreSQL ${var.name}: wrap and unwrap the data encryption key."
}

# Geo-redundant backups are encrypted in the paired region by a key and an
# identity of that region.
resource "azurerm_user_assigned_identity" "geo_backup" {
  count = var.geo_backup == null ? 0 : 1

  name                = "${var.name}-postgres-geo-backup-cmk"
  location            = var.geo_backup.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

resource "azurerm_role_assignment" "geo_backup_key" {
  count = var.geo_backup == null ? 0 : 1

  scope                = "${var.geo_backup.key_vault_id}/keys/${local.geo_key_name}"
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.geo_backup[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "PostgreSQL ${var.name}: geo-redundant backup encryption key."
}

################################################################################
# Private DNS: the server is reachable only inside the VNet
################################################################################

resource "azurerm_private_dns_zone" "this" {
  name                = "${var.name}.private.postgres.database.azure.com"
  resource_group_name = var.resource_group_name

  tags = var.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "this" {
  name                  = "${var.name}-vnet"
  resource_group_name   = var.resource_group_name
  private_dns_zone_name = azurerm_private_dns_zone.this.name
  virtual_network_id    = var.virtual_network_id
  registration_enabled  = false

  tags = var.tags
}

################################################################################
# Server
################################################################################

resource "azurerm_postgresql_flexible_server" "this" {
  #checkov:skip=CKV2_AZURE_57:the server is VNet-injected (delegated subnet, private DNS zone, public_network_access_enabled = false): it has no public endpoint, and private endpoints apply only to servers in public-access mode
  name                = var.name
  location            = var.location
  resource_group_name = var.resource_group_name
  version             = var.engine_version
  sku_name            = var.sku_name
  zone                = var.zone

  storage_mb        = local.storage_mb
  auto_grow_enabled = var.auto_grow_enabled

  # Network: VNet injection into the delegated subnet, private DNS, no public
  # endpoint.
  delegated_subnet_id           = var.delegated_subnet_id
  private_dns_zone_id           = azurerm_private_dns_zone.this.id
  public_network_access_enabled = false

  # Logins: Entra ID tokens only. Password authentication is off, so there is
  # no administrator password anywhere.
  authentication {
    active_directory_auth_enabled = true
    password_auth_enabled         = false
    tenant_id                     = data.azurerm_client_config.current.tenant_id
  }

  # Data, WAL and backups encrypted with the customer-managed key.
  identity {
    type         = "UserAssigned"
    identity_ids = concat([azurerm_user_assigned_identity.server.id], azurerm_user_assigned_identity.geo_backup[*].id)
  }

  customer_managed_key {
    key_vault_key_id                     = var.key_vault_key_id
    primary_user_assigned_identity_id    = azurerm_user_assigned_identity.server.id
    geo_backup_key_vault_key_id          = try(var.geo_backup.key_vault_key_id, null)
    geo_backup_user_assigned_identity_id = try(azurerm_user_assigned_identity.geo_backup[0].id, null)
  }

  # Backups: point-in-time restore to any second of the retention window.
  backup_retention_days        = var.backup_retention_days
  geo_redundant_backup_enabled = var.geo_backup != null

  dynamic "high_availability" {
    for_each = var.zone_redundant_ha ? [1] : []

    content {
      mode = "ZoneRedundant"
    }
  }

  maintenance_window {
    day_of_week  = 0
    start_hour   = 2
    start_minute = 0
  }

  tags = var.tags

  lifecycle {
    # A failover swaps primary and standby zones; auto-grow enlarges the
    # storage, and a smaller storage_mb in the plan would replace the server.
    ignore_changes = [zone, high_availability[0].standby_availability_zone, storage_mb]

    precondition {
      condition     = !(var.zone_redundant_ha && startswith(var.sku_name, "B_"))
      error_message = "Zone-redundant high availability is not available with Burstable (B_) SKUs: choose a GP_ or MO_ SKU or turn multi_az off."
    }
  }

  depends_on = [
    azurerm_private_dns_zone_virtual_network_link.this,
    azurerm_role_assignment.server_key,
    azurerm_role_assignment.geo_backup_key,
  ]
}

# Connections without TLS are refused.
resource "azurerm_postgresql_flexible_server_configuration" "require_secure_transport" {
  server_id = azurerm_postgresql_flexible_server.this.id
  name      = "require_secure_transport"
  value     = "on"
}

resource "azurerm_postgresql_flexible_server_configuration" "this" {
  for_each = local.configurations

  server_id = azurerm_postgresql_flexible_server.this.id
  name      = each.key
  value     = each.value
}

# Azure refuses to delete a locked server (the lock must be removed first).
resource "azurerm_management_lock" "server" {
  count = var.deletion_protection ? 1 : 0

  name       = "${var.name}-cannot-delete"
  scope      = azurerm_postgresql_flexible_server.this.id
  lock_level = "CanNotDelete"
  notes      = "deletion_protection: remove this lock (set deletion_protection = false and apply) before the server can be deleted."
}
