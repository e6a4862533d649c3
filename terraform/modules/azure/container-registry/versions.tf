terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.46: the AKS API server VNet integration arguments (4.46) and
      # outbound_type "none" (4.44); rbac_authorization_enabled needs 4.42.
      version = ">= 4.46, < 5.0"
    }
  }
}
