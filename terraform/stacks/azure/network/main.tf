locals {
  # Zones "1".."az_count", in order: a larger az_count appends zones.
  zones = slice(["1", "2", "3"], 0, var.az_count)

  # Storage account names are global, 3-24 lowercase letters and digits.
  suffix                        = substr(sha1("${var.subscription_id}/${var.environment}"), 0, 6)
  flow_log_storage_account_name = "st${substr(replace(var.environment, "-", ""), 0, 12)}flow${local.suffix}"
}

resource "azurerm_resource_group" "this" {
  name     = "${var.environment}-network"
  location = var.region

  tags = var.tags
}

module "network" {
  source = "../../../modules/azure/network"

  name                = var.environment
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  cidr                = var.cidr
  zones               = local.zones
  nat_gateway_mode    = var.nat_gateway_mode

  flow_log_retention_days       = var.flow_log_retention_days
  flow_log_storage_account_name = local.flow_log_storage_account_name
  flow_log_key_id               = var.flow_log_key_id
  key_vault_id                  = var.key_vault_id

  tags = merge(var.tags, { stack = "network" })
}
