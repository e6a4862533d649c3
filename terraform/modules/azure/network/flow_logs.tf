################################################################################
# VNet flow logs: Network Watcher -> storage account (customer-managed key)
################################################################################

locals {
  # https://<vault>.vault.azure.net/keys/<name> -> <name>
  flow_log_key_name = element(split("/", var.flow_log_key_id), length(split("/", var.flow_log_key_id)) - 1)
}

# One network watcher per subscription and region: the environment owns its
# subscription (see README for a subscription that already has one).
resource "azurerm_network_watcher" "this" {
  name                = "${var.name}-network-watcher-${var.location}"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

# The storage account reads the customer-managed key with this identity.
resource "azurerm_user_assigned_identity" "flow_logs" {
  name                = "${var.name}-flow-logs-storage"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

resource "azurerm_role_assignment" "flow_logs_key" {
  scope                = "${var.key_vault_id}/keys/${local.flow_log_key_name}"
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.flow_logs.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Wrap and unwrap the encryption key of the flow log storage account ${var.flow_log_storage_account_name}."
}

resource "azurerm_storage_account" "flow_logs" {
  #checkov:skip=CKV_AZURE_33:the account has no queues (blob only) and Terraform manages it through Resource Manager only, where queue logging cannot be configured
  #checkov:skip=CKV_AZURE_206:flow logs are diagnostics kept flow_log_retention_days; zone-redundant storage survives a zone loss and a second region is not worth its cost for them
  #checkov:skip=CKV_AZURE_59:public network access stays on behind a deny-by-default firewall: Network Watcher writes through the trusted-services bypass and no other network is allowed
  #checkov:skip=CKV2_AZURE_33:no private endpoint: nothing in the VNet reads the flow logs; readers use Azure RBAC through the firewall-protected endpoint
  #checkov:skip=CKV2_AZURE_40:Network Watcher writes flow logs with the account key (azurerm_network_watcher_flow_log takes no managed identity); people and tools read with Azure RBAC
  name                = var.flow_log_storage_account_name
  location            = var.location
  resource_group_name = var.resource_group_name

  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = "ZRS"
  access_tier              = "Hot"

  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  shared_access_key_enabled         = true # Network Watcher writes with the account key
  default_to_oauth_authentication   = true
  allow_nested_items_to_be_public   = false
  cross_tenant_replication_enabled  = false
  local_user_enabled                = false
  infrastructure_encryption_enabled = true
  public_network_access_enabled     = true

  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices", "Logging", "Metrics"]
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.flow_logs.id]
  }

  customer_managed_key {
    key_vault_key_id          = var.flow_log_key_id
    user_assigned_identity_id = azurerm_user_assigned_identity.flow_logs.id
  }

  blob_properties {
    delete_retention_policy {
      days = 7
    }

    container_delete_retention_policy {
      days = 7
    }
  }

  sas_policy {
    expiration_period = "00.01:00:00"
    expiration_action = "Log"
  }

  tags = var.tags

  depends_on = [azurerm_role_assignment.flow_logs_key]
}

# Flow logs of the whole VNet (every subnet and NIC), version 2 (bytes and
# packets per flow), deleted after flow_log_retention_days.
resource "azurerm_network_watcher_flow_log" "this" {
  name                 = "${var.name}-vnet"
  network_watcher_name = azurerm_network_watcher.this.name
  resource_group_name  = var.resource_group_name
  location             = var.location

  target_resource_id = azurerm_virtual_network.this.id
  storage_account_id = azurerm_storage_account.flow_logs.id
  enabled            = true
  version            = 2

  retention_policy {
    enabled = true
    days    = var.flow_log_retention_days
  }

  tags = var.tags
}
