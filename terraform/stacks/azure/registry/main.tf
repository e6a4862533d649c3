locals {
  # Registry names are global, 5-50 lowercase letters and digits: environment
  # (shortened, without hyphens) and a hash of subscription and environment.
  suffix        = substr(sha1("${var.subscription_id}/${var.environment}"), 0, 6)
  registry_name = "acr${substr(replace(var.environment, "-", ""), 0, 20)}${local.suffix}"
}

resource "azurerm_resource_group" "this" {
  name     = "${var.environment}-registry"
  location = var.region

  tags = var.tags
}

# One Premium registry per environment; images are <environment>/<image>.
# Releases are copied in by digest (infractl promote), never rebuilt.
module "registry" {
  source = "../../../modules/azure/container-registry"

  name                = local.registry_name
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location

  namespace            = var.environment
  repositories         = var.repositories
  key_vault_id         = var.key_vault_id
  key_vault_key_id     = var.registry_key_id
  untagged_expiry_days = var.untagged_expiry_days
  keep_releases        = var.keep_releases
  release_tag_prefixes = var.release_tag_prefixes
  pull_principal_ids   = var.pull_principal_ids

  private_endpoint_subnet_id = var.private_endpoint_subnet_id
  virtual_network_id         = var.virtual_network_id

  tags = merge(var.tags, { stack = "registry" })
}
