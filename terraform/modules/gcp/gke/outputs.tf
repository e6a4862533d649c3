output "cluster_name" {
  description = "Name of the GKE cluster."
  value       = try(google_container_cluster.this.name, null)
}

output "cluster_id" {
  description = "ID of the cluster (projects/<project>/locations/<region>/clusters/<name>)."
  value       = try(google_container_cluster.this.id, null)
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server: the private endpoint, or the public one when public_endpoint is set."
  value       = try("https://${google_container_cluster.this.endpoint}", null)
}

output "cluster_private_endpoint" {
  description = "Private IP address of the control plane in the VPC."
  value       = try(google_container_cluster.this.private_cluster_config[0].private_endpoint, null)
}

output "cluster_certificate_authority" {
  description = "Base64-encoded CA certificate of the API server (public), for kubeconfig."
  value       = try(google_container_cluster.this.master_auth[0].cluster_ca_certificate, null)
}

output "oidc_issuer_url" {
  description = "Issuer of the cluster's service account tokens (https://container.googleapis.com/v1/projects/<project>/locations/<region>/clusters/<name>)."
  value       = try("https://container.googleapis.com/v1/${google_container_cluster.this.id}", null)
}

output "workload_pool" {
  description = "Workload Identity pool of the cluster (<project>.svc.id.goog): a Kubernetes service account is the member serviceAccount:<pool>[<namespace>/<name>] or principal://iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/subject/ns/<namespace>/sa/<name>."
  value       = try(google_container_cluster.this.workload_identity_config[0].workload_pool, null)
}

output "node_pool_names" {
  description = "Node pool names by pool: \"system\" and one entry per tenant tier."
  value       = try({ for k, p in google_container_node_pool.this : k => p.name }, {})
}

output "node_service_account_email" {
  description = "Email of the nodes' service account."
  value       = try(google_service_account.node.email, null)
}

output "control_plane_log_bucket_id" {
  description = "ID of the log bucket keeping the control-plane and audit logs for log_retention_days."
  value       = module.control_plane_logs.bucket_id
}
