terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.42 is the first release with the non-deprecated argument names the
      # modules use (e.g. azurerm_key_vault.rbac_authorization_enabled).
      version = ">= 4.42, < 5.0"
    }
  }

  # Partial configuration: infractl passes the storage account, container,
  # key and Entra ID (use_azuread_auth) settings with -backend-config at init,
  # so this stack is the same for every environment.
  backend "azurerm" {}
}
