locals {
  key_name = regex("/keys/([A-Za-z0-9-]+)$", var.key_vault_key_id)[0]

  # acr purge: per repository, release tags beyond the newest keep_releases.
  # Untagged manifests are left to the registry's retention policy.
  purge_filters = join(" ", [
    for image in var.repositories : "--filter '${var.namespace}/${image}:^(${join("|", [for p in var.release_tag_prefixes : replace(p, ".", "\\.")])}).*'"
  ])
}

################################################################################
# CMK: the registry's identity unwraps the key; it must hold the key before the
# registry is created.
################################################################################

resource "azurerm_user_assigned_identity" "this" {
  name                = "${var.name}-cmk"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

resource "azurerm_role_assignment" "key" {
  scope                = "${var.key_vault_id}/keys/${local.key_name}"
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.this.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Container registry ${var.name}: wrap and unwrap the encryption key."
}

################################################################################
# The registry
################################################################################

resource "azurerm_container_registry" "this" {
  #checkov:skip=CKV_AZURE_165:the environment runs in one region (zone redundant here); every image of a release also stays in the previous stage's registry, from which infractl promote copies it by digest, so a regional loss is recovered by promoting again
  #checkov:skip=CKV_AZURE_164:Docker Content Trust (Notary v1) is being retired by Azure; images are signed in the cosign format by the release pipeline and deployments pin digests
  name                = var.name
  resource_group_name = var.resource_group_name
  location            = var.location

  # Premium: customer-managed keys, private endpoints, retention policy,
  # zone redundancy.
  sku = "Premium"

  # No shared admin credentials and no anonymous pulls: Entra identities only.
  admin_enabled          = false
  anonymous_pull_enabled = false

  # Reachable only through the private endpoint; images cannot be exported.
  # Trusted Azure services (ACR Tasks for the purge below, Defender for
  # Containers scanning) pass the closed network with their own identity.
  public_network_access_enabled = false
  network_rule_bypass_option    = "AzureServices"
  export_policy_enabled         = false
  data_endpoint_enabled         = true

  zone_redundancy_enabled = true

  # Untagged manifests are deleted untagged_expiry_days after they lose their tag.
  retention_policy_in_days = var.untagged_expiry_days

  # Images pushed are quarantined until the vulnerability scan (Microsoft
  # Defender for Containers) releases them.
  quarantine_policy_enabled = true

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.this.id]
  }

  encryption {
    key_vault_key_id   = var.key_vault_key_id
    identity_client_id = azurerm_user_assigned_identity.this.client_id
  }

  tags = var.tags

  depends_on = [azurerm_role_assignment.key]
}

# Release retention: a daily ACR task keeps the newest keep_releases release
# tags of each repository and deletes older ones (other tags are not touched).
resource "azurerm_container_registry_task" "purge" {
  name                  = "purge-releases"
  container_registry_id = azurerm_container_registry.this.id

  platform {
    os = "Linux"
  }

  encoded_step {
    task_content = base64encode(yamlencode({
      version = "v1.1.0"
      steps = [{
        cmd                             = "acr purge ${local.purge_filters} --ago 0d --keep ${var.keep_releases}"
        disableWorkingDirectoryOverride = true
        timeout                         = 3600
      }]
    }))
  }

  timer_trigger {
    name     = "daily"
    schedule = "0 3 * * *"
    enabled  = true
  }

  tags = var.tags
}

################################################################################
# The next stage pulls, nothing else
################################################################################

resource "azurerm_role_assignment" "pull" {
  for_each = toset(var.pull_principal_ids)

  scope                = azurerm_container_registry.this.id
  role_definition_name = "AcrPull"
  principal_id         = each.value
  description          = "Next stage: pull images from ${var.name}."
}

################################################################################
# Private endpoint and DNS
################################################################################

resource "azurerm_private_dns_zone" "this" {
  name                = "privatelink.azurecr.io"
  resource_group_name = var.resource_group_name

  tags = var.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "this" {
  name                  = "${var.name}-registry"
  resource_group_name   = var.resource_group_name
  private_dns_zone_name = azurerm_private_dns_zone.this.name
  virtual_network_id    = var.virtual_network_id
  registration_enabled  = false

  tags = var.tags
}

resource "azurerm_private_endpoint" "this" {
  name                = "${var.name}-registry"
  location            = var.location
  resource_group_name = var.resource_group_name
  subnet_id           = var.private_endpoint_subnet_id

  private_service_connection {
    name                           = "${var.name}-registry"
    private_connection_resource_id = azurerm_container_registry.this.id
    subresource_names              = ["registry"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "registry"
    private_dns_zone_ids = [azurerm_private_dns_zone.this.id]
  }

  tags = var.tags
}
