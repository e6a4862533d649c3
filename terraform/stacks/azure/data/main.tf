locals {
  # Server names are global (<name>.postgres.database.azure.com).
  suffix      = substr(sha1("${var.subscription_id}/${var.environment}"), 0, 6)
  server_name = "${var.environment}-pg-${local.suffix}"

  # Backup retention sized from the environment's RPO, as on AWS. The RPO
  # itself is met by point-in-time restore, which comes with automated backups
  # at any retention (WAL is archived continuously; a restore reaches any
  # second up to a few minutes before the failure). The retention only decides
  # how far back a restore can go, and a tight RPO marks an environment whose
  # data matters, so it also gets the longest look-back. Azure allows 7-35:
  #   rpo <= 15 min -> 35 days (the maximum)   e.g. prod    (15)
  #   rpo <= 60 min -> 14 days                 e.g. staging (60)
  #   otherwise     ->  7 days (the minimum)   e.g. dev     (1440)
  backup_retention_days = var.rpo_minutes <= 15 ? 35 : var.rpo_minutes <= 60 ? 14 : 7

  # A tier C tenant's database and its owner role: tenant_<name with - as _>.
  tenant_databases = { for name in keys(var.tenant_instances) : name => "tenant_${replace(name, "-", "_")}" }
}

resource "azurerm_resource_group" "this" {
  name     = "${var.environment}-data"
  location = var.region

  tags = var.tags
}

module "postgres" {
  source = "../../../modules/azure/postgres"

  name                = local.server_name
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location

  engine_version    = var.engine_version
  sku_name          = var.instance_class
  storage_gib       = var.allocated_storage_gib
  auto_grow_enabled = var.max_allocated_storage_gib > var.allocated_storage_gib
  zone_redundant_ha = var.multi_az

  delegated_subnet_id = var.postgres_subnet_id
  virtual_network_id  = var.virtual_network_id

  key_vault_id     = var.key_vault_id
  key_vault_key_id = var.database_key_id
  geo_backup       = var.geo_backup

  backup_retention_days = local.backup_retention_days
  deletion_protection   = var.deletion_protection

  # databases: the module default (app, temporal, temporal_visibility).

  tags = merge(var.tags, { stack = "data" })
}

################################################################################
# Dedicated servers of tier C tenants
#
# One server <environment>-tenant-<name>-<hash> per tenant in tenant_instances,
# built by the same module as the shared server in the same resource group and
# delegated subnet: same key, Entra-only logins, TLS, backups, geo backup and
# lock; one database tenant_<name with - as _> owned by the role of the same
# name (mapped to its own managed identity). The other tier C tenants'
# databases live on the shared server.
################################################################################

module "tenant_postgres" {
  source   = "../../../modules/azure/postgres"
  for_each = var.tenant_instances

  name                = "${var.environment}-tenant-${each.key}-${local.suffix}"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location

  engine_version    = var.engine_version
  sku_name          = each.value.instance_class
  storage_gib       = each.value.allocated_storage_gib
  auto_grow_enabled = each.value.max_allocated_storage_gib > each.value.allocated_storage_gib
  zone_redundant_ha = each.value.multi_az

  delegated_subnet_id = var.postgres_subnet_id
  virtual_network_id  = var.virtual_network_id

  key_vault_id     = var.key_vault_id
  key_vault_key_id = var.database_key_id
  geo_backup       = var.geo_backup

  backup_retention_days = local.backup_retention_days
  deletion_protection   = var.deletion_protection

  databases = { (local.tenant_databases[each.key]) = { owner = local.tenant_databases[each.key] } }

  tags = merge(var.tags, { stack = "data", tenant = each.key })
}
