provider "azurerm" {
  # The stack touches this subscription only, whatever the caller's default.
  subscription_id = var.subscription_id

  # Storage data-plane calls authenticate with Entra ID: no account keys.
  storage_use_azuread = true

  # Terraform registers no resource providers: the CI identities hold
  # resource-group roles only. The subscription's owner registers them once
  # (see the stack README).
  resource_provider_registrations = "none"

  features {
    key_vault {
      # A destroyed vault or key stays soft-deleted (recoverable) for its
      # retention period; Terraform never purges, and recovers instead of
      # failing when a soft-deleted one of the same name exists.
      purge_soft_delete_on_destroy       = false
      purge_soft_deleted_keys_on_destroy = false
      recover_soft_deleted_key_vaults    = true
      recover_soft_deleted_keys          = true
    }

    storage {
      # Storage accounts sit behind deny-by-default firewalls with shared keys
      # off: Terraform manages them, their containers and policies through
      # Azure Resource Manager only.
      data_plane_available = false
    }
  }
}
