locals {
  # Key Vault names are global, 3-24 characters: environment (shortened),
  # purpose and a hash of subscription and environment make them unique.
  suffix         = substr(sha1("${var.subscription_id}/${var.environment}"), 0, 4)
  key_vault_name = "kv-${substr(replace(var.environment, "-", ""), 0, 10)}-kms-${local.suffix}"

  # Azure keeps soft-deleted vaults and keys 7-90 days.
  soft_delete_retention_days = min(max(var.deletion_window_days, 7), 90)
}

resource "azurerm_resource_group" "this" {
  name     = "${var.environment}-kms"
  location = var.region

  tags = var.tags
}

# One key per purpose in one vault. Who may use each key is granted by the
# stack that creates the user (data, cluster, network), on that key only.
module "key_vault" {
  source = "../../../modules/azure/key-vault"

  name                       = local.key_vault_name
  resource_group_name        = azurerm_resource_group.this.name
  location                   = azurerm_resource_group.this.location
  soft_delete_retention_days = local.soft_delete_retention_days

  allowed_ip_ranges            = var.key_vault_allowed_ip_ranges
  key_administrator_object_ids = var.key_administrator_object_ids

  keys = {
    # Terraform remote state: the state storage account's customer-managed key.
    state = {
      description = "${var.environment}: Terraform remote state (state storage account encryption)"
    }

    # PostgreSQL Flexible Server data, WAL and backups.
    database = {
      description = "${var.environment}: PostgreSQL data, WAL and backups"
    }

    # AKS KMS envelope encryption of Kubernetes secrets in etcd.
    cluster = {
      description = "${var.environment}: AKS KMS encryption of Kubernetes secrets"
    }

    # Log stores: the VNet flow log storage account.
    logs = {
      description = "${var.environment}: log storage (VNet flow logs)"
    }

    # Azure Container Registry images (registry stack); the registry stack's
    # identity is granted this key only.
    registry = {
      description = "${var.environment}: container registry images (registry stack)"
    }
  }

  tags = merge(var.tags, { stack = "kms" })
}
