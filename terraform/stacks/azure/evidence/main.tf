locals {
  # Key Vault and storage account names are global: environment (shortened),
  # role and a hash of subscription and environment make them unique.
  env_short = replace(var.environment, "-", "")
  hash      = sha1("${var.subscription_id}/${var.environment}")

  key_vault_name         = "kv-${substr(local.env_short, 0, 10)}-evd-${substr(local.hash, 0, 4)}"
  replica_key_vault_name = "kv-${substr(local.env_short, 0, 10)}-evr-${substr(local.hash, 0, 4)}"
  storage_account_name   = "st${substr(local.env_short, 0, 12)}evd${substr(local.hash, 0, 6)}"
  replica_account_name   = "st${substr(local.env_short, 0, 12)}evr${substr(local.hash, 0, 6)}"

  # COMPLIANCE: the retention policies are locked for good.
  locked = var.object_lock_mode == "COMPLIANCE"

  # The longest soft-delete window Azure allows: losing an evidence key loses
  # the evidence.
  key_soft_delete_days = 90
}

resource "azurerm_resource_group" "primary" {
  name     = "${var.environment}-evidence"
  location = var.region

  tags = var.tags
}

# Its own resource group in the DR region: managing the replica must not
# depend on the primary region's Resource Manager metadata.
resource "azurerm_resource_group" "replica" {
  name     = "${var.environment}-evidence-dr"
  location = var.dr_region

  tags = var.tags
}

################################################################################
# Keys: one vault per region
################################################################################

module "key_vault" {
  source = "../../../modules/azure/key-vault"

  name                       = local.key_vault_name
  resource_group_name        = azurerm_resource_group.primary.name
  location                   = azurerm_resource_group.primary.location
  soft_delete_retention_days = local.key_soft_delete_days
  allowed_ip_ranges          = var.allowed_ip_ranges

  keys = {
    evidence = { description = "${var.environment}: WORM audit evidence account" }
  }

  tags = merge(var.tags, { stack = "evidence", role = "primary" })
}

module "key_vault_replica" {
  source = "../../../modules/azure/key-vault"

  name                       = local.replica_key_vault_name
  resource_group_name        = azurerm_resource_group.replica.name
  location                   = azurerm_resource_group.replica.location
  soft_delete_retention_days = local.key_soft_delete_days
  allowed_ip_ranges          = var.allowed_ip_ranges

  keys = {
    evidence-replica = { description = "${var.environment}: replica of the WORM audit evidence account in ${var.dr_region}" }
  }

  tags = merge(var.tags, { stack = "evidence", role = "replica" })
}

################################################################################
# Access logs: one workspace per region
################################################################################

resource "azurerm_log_analytics_workspace" "primary" {
  name                = "${var.environment}-evidence-access-logs"
  location            = azurerm_resource_group.primary.location
  resource_group_name = azurerm_resource_group.primary.name
  sku                 = "PerGB2018"
  retention_in_days   = var.access_log_retention_days

  tags = merge(var.tags, { stack = "evidence", role = "primary" })
}

resource "azurerm_log_analytics_workspace" "replica" {
  name                = "${var.environment}-evidence-replica-access-logs"
  location            = azurerm_resource_group.replica.location
  resource_group_name = azurerm_resource_group.replica.name
  sku                 = "PerGB2018"
  retention_in_days   = var.access_log_retention_days

  tags = merge(var.tags, { stack = "evidence", role = "replica" })
}

################################################################################
# Accounts: the locked replica in the DR region, the locked primary, and the
# object replication from one to the other
################################################################################

module "evidence_replica" {
  source = "../../../modules/azure/evidence"

  storage_account_name = local.replica_account_name
  container_name       = "${var.environment}-evidence-replica"
  resource_group_name  = azurerm_resource_group.replica.name
  location             = azurerm_resource_group.replica.location

  retention_days = var.retention_days
  locked         = local.locked

  key_vault_id               = module.key_vault_replica.key_vault_id
  key_vault_key_id           = module.key_vault_replica.key_ids["evidence-replica"]
  log_analytics_workspace_id = azurerm_log_analytics_workspace.replica.id
  allowed_ip_ranges          = var.allowed_ip_ranges

  tags = merge(var.tags, { stack = "evidence", role = "replica" })
}

module "evidence" {
  source = "../../../modules/azure/evidence"

  storage_account_name = local.storage_account_name
  container_name       = "${var.environment}-evidence"
  resource_group_name  = azurerm_resource_group.primary.name
  location             = azurerm_resource_group.primary.location

  retention_days = var.retention_days
  locked         = local.locked

  key_vault_id               = module.key_vault.key_vault_id
  key_vault_key_id           = module.key_vault.key_ids["evidence"]
  log_analytics_workspace_id = azurerm_log_analytics_workspace.primary.id
  allowed_ip_ranges          = var.allowed_ip_ranges

  tags = merge(var.tags, { stack = "evidence", role = "primary" })
}

# Every blob version written to the primary container, existing ones included,
# is copied asynchronously to the replica container, where the replica's own
# locked policy retains it. The destination container is read-only to
# everyone else once the policy exists.
resource "azurerm_storage_object_replication" "this" {
  source_storage_account_id      = module.evidence.storage_account_id
  destination_storage_account_id = module.evidence_replica.storage_account_id

  rules {
    source_container_name      = module.evidence.container_name
    destination_container_name = module.evidence_replica.container_name
    copy_blobs_created_after   = "Everything"
  }
}
