data "azurerm_client_config" "current" {}

locals {
  # Envelope encryption by Azure services (Storage, PostgreSQL, AKS KMS):
  # they wrap/unwrap their data keys (Storage, PostgreSQL) or encrypt/decrypt
  # them (AKS KMS). No signing.
  key_opts = ["decrypt", "encrypt", "unwrapKey", "wrapKey"]
}

resource "azurerm_key_vault" "this" {
  #checkov:skip=CKV_AZURE_189:public network access is on only behind a deny-by-default firewall (network_acls default_action Deny): Terraform creates and refreshes keys through the data plane from allowed_ip_ranges, and trusted Azure services (Storage, PostgreSQL CMK) use the bypass
  #checkov:skip=CKV2_AZURE_32:no private endpoint of ours: Terraform runners reach the vault through the firewall allowlist, Storage and PostgreSQL through the trusted-services bypass, and AKS KMS through the private link AKS creates itself
  name                = var.name
  location            = var.location
  resource_group_name = var.resource_group_name
  tenant_id           = data.azurerm_client_config.current.tenant_id

  # Premium: keys are HSM-backed (RSA-HSM).
  sku_name = "premium"

  # Data-plane access is decided by Azure RBAC role assignments, not access
  # policies.
  rbac_authorization_enabled = true

  # Deleting a key or the vault only soft-deletes it for
  # soft_delete_retention_days; purge protection forbids purging it earlier,
  # so a deletion is always recoverable within the window.
  purge_protection_enabled   = true
  soft_delete_retention_days = var.soft_delete_retention_days

  enabled_for_deployment          = false
  enabled_for_disk_encryption     = false
  enabled_for_template_deployment = false

  # Deny by default. Public network access stays on only so that the listed
  # addresses (Terraform's runners) reach the data plane; trusted Azure
  # services (Storage, PostgreSQL) bypass the firewall with their managed
  # identities. AKS reaches it over a private link it creates (KMS "Private").
  public_network_access_enabled = true

  network_acls {
    default_action             = "Deny"
    bypass                     = "AzureServices"
    ip_rules                   = var.allowed_ip_ranges
    virtual_network_subnet_ids = var.allowed_subnet_ids
  }

  tags = var.tags
}

# The principal that creates the vault needs Crypto Officer to create the keys.
# principal_id is ignored afterwards, so a later apply by another principal
# (the CI apply identity, which holds the role on the resource group through
# the ci stack) does not move the assignment.
resource "azurerm_role_assignment" "deployer" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Crypto Officer"
  principal_id         = data.azurerm_client_config.current.object_id
  description          = "Creates and rotates the keys of ${var.name} (the principal that first applied the module)."

  lifecycle {
    ignore_changes = [principal_id]
  }
}

resource "azurerm_role_assignment" "administrators" {
  for_each = toset(var.key_administrator_object_ids)

  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Crypto Officer"
  principal_id         = each.value
  description          = "Key administrator of ${var.name}."
}

resource "azurerm_key_vault_key" "this" {
  #checkov:skip=CKV_AZURE_40:each version expires version_lifetime_days after its creation through rotation_policy.expire_after; a fixed expiration_date on the key would stop every service at that date instead of rotating
  for_each = var.keys

  name         = each.key
  key_vault_id = azurerm_key_vault.this.id
  key_type     = "RSA-HSM"
  key_size     = each.value.key_size
  key_opts     = local.key_opts

  # Automatic rotation: a new version every rotation_days; services that take
  # the versionless ID (Storage, PostgreSQL) follow it by themselves.
  rotation_policy {
    automatic {
      time_after_creation = "P${var.rotation_days}D"
    }

    expire_after         = "P${var.version_lifetime_days}D"
    notify_before_expiry = "P30D"
  }

  tags = merge(var.tags, { purpose = each.key, description = each.value.description })

  # Creating a key is a data-plane call that needs the Crypto Officer role.
  depends_on = [azurerm_role_assignment.deployer]
}
