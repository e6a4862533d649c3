output "cluster_name" {
  description = "Name of the AKS cluster."
  value       = module.aks.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server (the private FQDN for a private cluster, resolvable from the VNet)."
  value       = module.aks.cluster_endpoint
}

output "cluster_certificate_authority" {
  description = "Base64-encoded CA certificate of the API server (public), for kubeconfig."
  value       = module.aks.cluster_certificate_authority
}

output "oidc_issuer_url" {
  description = "Service account token issuer URL of the cluster: the issuer of the federated identity credentials that give pods Entra identities."
  value       = module.aks.oidc_issuer_url
}

output "node_pool_names" {
  description = "AKS node pool names by pool: \"system\" and one entry per tenant tier."
  value       = module.aks.node_pool_names
}

output "cluster_id" {
  description = "Resource ID of the AKS cluster."
  value       = module.aks.cluster_id
}

output "cluster_identity_principal_id" {
  description = "Principal ID of the cluster's user-assigned identity."
  value       = module.aks.cluster_identity_principal_id
}

output "kubelet_identity_object_id" {
  description = "Object ID of the kubelet identity (grant it AcrPull on registries)."
  value       = module.aks.kubelet_identity_object_id
}

output "node_resource_group" {
  description = "Resource group AKS manages for the nodes."
  value       = module.aks.node_resource_group
}

output "log_analytics_workspace_id" {
  description = "ID of the Log Analytics workspace receiving the control-plane and container logs."
  value       = module.aks.log_analytics_workspace_id
}

output "resource_group_name" {
  description = "Resource group of the cluster (<environment>-cluster)."
  value       = azurerm_resource_group.this.name
}
