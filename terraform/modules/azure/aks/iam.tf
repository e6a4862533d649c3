################################################################################
# Cluster identity and what it may use
#
# KMS etcd encryption does not work with a system-assigned identity (it must
# hold the key permissions before the cluster exists), hence a user-assigned
# one, granted everything before the cluster is created.
################################################################################

locals {
  # https://<vault>.vault.azure.net/keys/<name>/<version> -> <name>
  secrets_key_name = split("/", var.secrets_key_vault_key_id)[4]
}

resource "azurerm_user_assigned_identity" "cluster" {
  name                = "${var.name}-aks-cluster"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

# Encrypt and decrypt with the secrets key (KMS plugin).
resource "azurerm_role_assignment" "kms_crypto_user" {
  scope                = "${var.key_vault_id}/keys/${local.secrets_key_name}"
  role_definition_name = "Key Vault Crypto User"
  principal_id         = azurerm_user_assigned_identity.cluster.principal_id
  principal_type       = "ServicePrincipal"
  description          = "AKS ${var.name}: KMS envelope encryption of Kubernetes secrets."
}

# KMS with a private key vault: AKS creates the private endpoint and private
# link to the vault itself, which takes Key Vault Contributor on the vault.
resource "azurerm_role_assignment" "kms_vault_contributor" {
  scope                = var.key_vault_id
  role_definition_name = "Key Vault Contributor"
  principal_id         = azurerm_user_assigned_identity.cluster.principal_id
  principal_type       = "ServicePrincipal"
  description          = "AKS ${var.name}: private link from the API server to the KMS key vault."
}

# Bring-your-own subnets: nodes, internal load balancers and the API server's
# VNet integration.
resource "azurerm_role_assignment" "node_subnet" {
  scope                = var.node_subnet_id
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_user_assigned_identity.cluster.principal_id
  principal_type       = "ServicePrincipal"
  description          = "AKS ${var.name}: node subnet."
}

resource "azurerm_role_assignment" "apiserver_subnet" {
  scope                = var.apiserver_subnet_id
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_user_assigned_identity.cluster.principal_id
  principal_type       = "ServicePrincipal"
  description          = "AKS ${var.name}: API Server VNet Integration subnet."
}
