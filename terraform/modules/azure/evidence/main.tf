locals {
  # https://<vault>.vault.azure.net/keys/<name> -> <name>
  key_name = element(split("/", var.key_vault_key_id), length(split("/", var.key_vault_key_id)) - 1)
}

################################################################################
# Customer-managed key: the account reads it with a user-assigned identity
################################################################################

resource "azurerm_user_assigned_identity" "this" {
  name                = "${var.storage_account_name}-cmk"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

resource "azurerm_role_assignment" "key" {
  scope                = "${var.key_vault_id}/keys/${local.key_name}"
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.this.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Storage account ${var.storage_account_name}: wrap and unwrap the account encryption key."
}

################################################################################
# Account and WORM container
################################################################################

resource "azurerm_storage_account" "this" {
  #checkov:skip=CKV_AZURE_33:the account has no queues (blob only) and Terraform manages it through Resource Manager only, where queue logging cannot be configured
  #checkov:skip=CKV_AZURE_206:the cross-region copy is object replication to a second locked account in dr_region (GRS would add an unlocked-failover secondary); zone-redundant storage covers a zone loss
  #checkov:skip=CKV_AZURE_59:public network access stays on behind a deny-by-default firewall so that the allowed_ip_ranges (CI runners) can publish evidence; everything else is denied
  #checkov:skip=CKV2_AZURE_33:no private endpoint: writers are outside the VNet (CI runners) and reach the account through the firewall allowlist with Entra ID credentials
  name                = var.storage_account_name
  location            = var.location
  resource_group_name = var.resource_group_name

  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = "ZRS"
  access_tier              = "Hot"

  # TLS 1.2+, HTTPS only, Entra ID only (no account keys, no SAS signed with
  # them, no local users), nothing public.
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  allow_nested_items_to_be_public   = false
  cross_tenant_replication_enabled  = false
  infrastructure_encryption_enabled = true
  public_network_access_enabled     = true

  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices", "Logging", "Metrics"]
    # Storage firewall rules take /0-/30 prefixes or bare addresses, not /32.
    ip_rules = [for cidr in var.allowed_ip_ranges : trimsuffix(cidr, "/32")]
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.this.id]
  }

  customer_managed_key {
    key_vault_key_id          = var.key_vault_key_id
    user_assigned_identity_id = azurerm_user_assigned_identity.this.id
  }

  # Version-level immutability support (fixed at account creation): legal
  # holds and retention apply to individual blob versions. The account-wide
  # default policy stays disabled; the container's policy sets the retention.
  immutability_policy {
    state                         = "Disabled"
    period_since_creation_in_days = var.retention_days
    allow_protected_append_writes = false
  }

  blob_properties {
    # Every write keeps the previous version; the change feed records every
    # change (object replication reads it).
    versioning_enabled       = true
    change_feed_enabled      = true
    last_access_time_enabled = false

    delete_retention_policy {
      days                     = var.soft_delete_days
      permanent_delete_enabled = false
    }

    container_delete_retention_policy {
      days = var.soft_delete_days
    }
  }

  sas_policy {
    expiration_period = "00.01:00:00"
    expiration_action = "Log"
  }

  tags = var.tags

  depends_on = [azurerm_role_assignment.key]
}

resource "azurerm_storage_container" "this" {
  #checkov:skip=CKV2_AZURE_21:blob reads, writes and deletes are logged by the diagnostic setting on the account's blob service (azurerm_monitor_diagnostic_setting.blob, categories StorageRead, StorageWrite, StorageDelete); checkov only recognises Log Analytics storage insights
  name                  = var.container_name
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

# Time-based retention of every blob version in the container. Locked: nobody,
# the subscription owner included, can shorten or remove it.
resource "azurerm_storage_container_immutability_policy" "this" {
  storage_container_resource_manager_id = azurerm_storage_container.this.id
  immutability_period_in_days           = var.retention_days
  locked                                = var.locked
  protected_append_writes_enabled       = false
}

################################################################################
# Access logs: every read, write and delete on the blob service
################################################################################

resource "azurerm_monitor_diagnostic_setting" "blob" {
  name                       = "${var.storage_account_name}-blob-access"
  target_resource_id         = "${azurerm_storage_account.this.id}/blobServices/default"
  log_analytics_workspace_id = var.log_analytics_workspace_id

  enabled_log {
    category = "StorageRead"
  }

  enabled_log {
    category = "StorageWrite"
  }

  enabled_log {
    category = "StorageDelete"
  }
}
