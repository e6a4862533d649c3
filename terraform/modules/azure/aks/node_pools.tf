################################################################################
# Tenant node pools: one per tier, tainted so only that tier's pods land there
################################################################################

resource "azurerm_kubernetes_cluster_node_pool" "tenant" {
  for_each = var.tenant_tiers

  name                        = each.key
  temporary_name_for_rotation = "${substr(each.key, 0, 9)}tmp"
  kubernetes_cluster_id       = azurerm_kubernetes_cluster.this.id
  mode                        = "User"
  vm_size                     = each.value.instance_types[0]
  vnet_subnet_id              = var.node_subnet_id
  zones                       = var.zones
  orchestrator_version        = var.kubernetes_version

  auto_scaling_enabled = true
  min_count            = each.value.min_size
  max_count            = each.value.max_size
  node_count           = each.value.desired_size

  os_disk_size_gb         = each.value.disk_gib
  os_disk_type            = "Managed"
  os_sku                  = "AzureLinux"
  host_encryption_enabled = true
  node_public_ip_enabled  = false
  max_pods                = 110

  node_taints = ["tenant-tier=${each.key}:NoSchedule"]
  node_labels = { "tenant-tier" = each.key }

  upgrade_settings {
    max_surge = "33%"
  }

  # A tier C tenant's pool: tenant = <name>, over the shared value of var.tags.
  tags = merge(var.tags, each.value.tenant == null ? tomap({}) : tomap({ tenant = each.value.tenant }))

  lifecycle {
    ignore_changes = [node_count]
  }
}
