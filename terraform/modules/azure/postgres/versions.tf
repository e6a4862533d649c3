terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.42 is the first release with the non-deprecated argument names used
      # here (e.g. azurerm_key_vault.rbac_authorization_enabled).
      version = ">= 4.42, < 5.0"
    }
  }
}
