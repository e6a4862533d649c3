################################################################################
# Control-plane logs -> Log Analytics, kept log_retention_days
################################################################################

resource "azurerm_log_analytics_workspace" "this" {
  name                = "${var.name}-aks-logs"
  location            = var.location
  resource_group_name = var.resource_group_name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days

  tags = var.tags
}

resource "azurerm_monitor_diagnostic_setting" "control_plane" {
  name                           = "${var.name}-control-plane"
  target_resource_id             = azurerm_kubernetes_cluster.this.id
  log_analytics_workspace_id     = azurerm_log_analytics_workspace.this.id
  log_analytics_destination_type = "Dedicated"

  enabled_log {
    category = "kube-apiserver"
  }

  # Audit events except get/list (kube-audit would double the volume).
  enabled_log {
    category = "kube-audit-admin"
  }

  enabled_log {
    category = "kube-controller-manager"
  }

  enabled_log {
    category = "kube-scheduler"
  }

  enabled_log {
    category = "cluster-autoscaler"
  }

  # Entra ID / Azure RBAC authentication decisions.
  enabled_log {
    category = "guard"
  }
}
