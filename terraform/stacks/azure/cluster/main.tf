resource "azurerm_resource_group" "this" {
  name     = "${var.environment}-cluster"
  location = var.region

  tags = var.tags
}

module "aks" {
  source = "../../../modules/azure/aks"

  name                = var.environment
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  kubernetes_version  = var.kubernetes_version

  # Every pool spans the zones on one subnet (an AKS pool takes one subnet).
  zones               = var.zones
  node_subnet_id      = var.subnet_ids[0]
  apiserver_subnet_id = var.apiserver_subnet_id
  outbound_type       = var.nat_gateway_mode == "none" ? "none" : "userAssignedNATGateway"

  public_endpoint     = var.public_endpoint
  public_access_cidrs = var.public_access_cidrs

  key_vault_id             = var.key_vault_id
  secrets_key_vault_key_id = var.secrets_key_version_id

  log_retention_days     = var.log_retention_days
  admin_group_object_ids = var.admin_group_object_ids

  system_node_group = var.system_node_group
  tenant_tiers      = { for tier, group in var.tenant_tiers : tier => merge(group, { tenant = lookup(var.tier_tenants, tier, null) }) }

  tags = merge(var.tags, { stack = "cluster" })
}
