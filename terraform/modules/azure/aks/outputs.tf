output "cluster_id" {
  description = "Resource ID of the AKS cluster."
  value       = try(azurerm_kubernetes_cluster.this.id, null)
}

output "cluster_name" {
  description = "Name of the AKS cluster."
  value       = try(azurerm_kubernetes_cluster.this.name, null)
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server: the private FQDN for a private cluster (resolvable from the VNet), the public FQDN otherwise."
  value       = try(var.public_endpoint ? "https://${azurerm_kubernetes_cluster.this.fqdn}:443" : "https://${azurerm_kubernetes_cluster.this.private_fqdn}:443", null)
}

output "cluster_certificate_authority" {
  description = "Base64-encoded CA certificate of the API server (public data, for kubeconfig's certificate-authority-data)."
  value       = try(nonsensitive(azurerm_kubernetes_cluster.this.kube_config[0].cluster_ca_certificate), null)
}

output "oidc_issuer_url" {
  description = "Service account token issuer URL of the cluster: the issuer of federated identity credentials for workload identity."
  value       = try(azurerm_kubernetes_cluster.this.oidc_issuer_url, null)
}

output "node_pool_names" {
  description = "Node pool names by pool: \"system\" and one entry per tenant tier."
  value = try(tomap(merge(
    { system = azurerm_kubernetes_cluster.this.default_node_pool[0].name },
    { for tier, pool in azurerm_kubernetes_cluster_node_pool.tenant : tier => pool.name },
  )), {})
}

output "cluster_identity_principal_id" {
  description = "Principal ID of the cluster's user-assigned identity."
  value       = try(azurerm_user_assigned_identity.cluster.principal_id, null)
}

output "kubelet_identity_object_id" {
  description = "Object ID of the kubelet identity AKS created (grant it AcrPull on registries)."
  value       = try(azurerm_kubernetes_cluster.this.kubelet_identity[0].object_id, null)
}

output "node_resource_group" {
  description = "Resource group AKS manages for the nodes (MC_...)."
  value       = try(azurerm_kubernetes_cluster.this.node_resource_group, null)
}

output "log_analytics_workspace_id" {
  description = "ID of the Log Analytics workspace receiving the control-plane and container logs."
  value       = try(azurerm_log_analytics_workspace.this.id, null)
}
