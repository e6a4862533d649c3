data "azurerm_client_config" "current" {}

################################################################################
# Control plane
################################################################################

resource "azurerm_kubernetes_cluster" "this" {
  #checkov:skip=CKV_AZURE_117:node OS disks are encrypted at host with platform-managed keys (host_encryption_enabled); the contract's customer-managed key is for Kubernetes secrets (KMS), a disk encryption set would add a key and identity per cluster
  #checkov:skip=CKV_AZURE_226:OS disk size comes from the environment's disk_gib and VM size, which need not fit the VM's cache or temp disk that an ephemeral OS disk requires; managed OS disks work with every size
  #checkov:skip=CKV_AZURE_172:the Secrets Store CSI driver add-on (key_vault_secrets_provider) is not installed, so there is no secret rotation to configure; pods get credentials through workload identity
  #checkov:skip=CKV_AZURE_115:the API server is private unless public_endpoint, and then restricted to public_access_cidrs (authorized IP ranges); the private endpoint (VNet integration) is always on
  name                = var.name
  location            = var.location
  resource_group_name = var.resource_group_name
  dns_prefix          = var.name
  kubernetes_version  = var.kubernetes_version
  sku_tier            = var.sku_tier

  # Patch releases of the pinned minor version and weekly node images arrive
  # by themselves; a minor upgrade is a change of kubernetes_version.
  automatic_upgrade_channel = "patch"
  node_os_upgrade_channel   = "NodeImage"

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.cluster.id]
  }

  # API endpoint: always projected into the VNet (API Server VNet Integration:
  # an internal load balancer in the delegated subnet). A private cluster has
  # nothing else; with public_endpoint the public endpoint admits
  # public_access_cidrs only.
  private_cluster_enabled             = !var.public_endpoint
  private_dns_zone_id                 = var.public_endpoint ? null : "System"
  private_cluster_public_fqdn_enabled = false

  api_server_access_profile {
    authorized_ip_ranges                = var.public_endpoint ? var.public_access_cidrs : []
    subnet_id                           = var.apiserver_subnet_id
    virtual_network_integration_enabled = true
  }

  # Identity: Entra ID only (no local admin kubeconfig), Kubernetes
  # authorization through Azure RBAC; pods federate their service account
  # tokens to Entra identities (workload identity).
  local_account_disabled            = true
  role_based_access_control_enabled = true
  oidc_issuer_enabled               = true
  workload_identity_enabled         = true

  azure_active_directory_role_based_access_control {
    tenant_id              = data.azurerm_client_config.current.tenant_id
    azure_rbac_enabled     = true
    admin_group_object_ids = var.admin_group_object_ids
  }

  # Kubernetes secrets in etcd are envelope-encrypted with the cluster key;
  # the API server reaches the vault over a private link.
  key_management_service {
    key_vault_key_id         = var.secrets_key_vault_key_id
    key_vault_network_access = "Private"
  }

  # Without outbound access (outbound_type "none") the nodes pull their images
  # from the AKS artifact cache; the provider refuses "none" with Direct.
  bootstrap_profile {
    artifact_source = var.outbound_type == "none" ? "Cache" : "Direct"
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    network_data_plane  = "cilium"
    network_policy      = "cilium"
    load_balancer_sku   = "standard"
    outbound_type       = var.outbound_type
    pod_cidr            = "192.168.0.0/16"
    service_cidr        = "172.16.0.0/16"
    dns_service_ip      = "172.16.0.10"
  }

  default_node_pool {
    name                         = "system"
    temporary_name_for_rotation  = "systemtmp"
    vm_size                      = var.system_node_group.instance_types[0]
    vnet_subnet_id               = var.node_subnet_id
    zones                        = var.zones
    only_critical_addons_enabled = true
    orchestrator_version         = var.kubernetes_version

    auto_scaling_enabled = true
    min_count            = var.system_node_group.min_size
    max_count            = var.system_node_group.max_size
    node_count           = var.system_node_group.desired_size

    os_disk_size_gb         = var.system_node_group.disk_gib
    os_disk_type            = "Managed"
    os_sku                  = "AzureLinux"
    host_encryption_enabled = true
    node_public_ip_enabled  = false
    max_pods                = 110

    node_labels = { "node-role" = "system" }

    upgrade_settings {
      max_surge = "33%"
    }

    tags = var.tags
  }

  azure_policy_enabled = true
  run_command_enabled  = false

  image_cleaner_enabled        = true
  image_cleaner_interval_hours = 48

  # Container Insights (node and container logs) in the same workspace.
  oms_agent {
    log_analytics_workspace_id      = azurerm_log_analytics_workspace.this.id
    msi_auth_for_monitoring_enabled = true
  }

  tags = var.tags

  lifecycle {
    # The cluster autoscaler owns the node count.
    ignore_changes = [default_node_pool[0].node_count]

    precondition {
      condition     = !var.public_endpoint || length(var.public_access_cidrs) > 0
      error_message = "public_endpoint requires at least one entry in public_access_cidrs: an unrestricted public API endpoint is not allowed."
    }
  }

  # Every permission the cluster identity needs must exist before the cluster.
  depends_on = [
    azurerm_role_assignment.kms_crypto_user,
    azurerm_role_assignment.kms_vault_contributor,
    azurerm_role_assignment.node_subnet,
    azurerm_role_assignment.apiserver_subnet,
  ]
}
