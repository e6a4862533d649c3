output "cluster_name" {
  description = "Name of the GKE cluster."
  value       = module.gke.cluster_name
}

output "cluster_id" {
  description = "ID of the cluster (projects/<project>/locations/<region>/clusters/<name>)."
  value       = module.gke.cluster_id
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server (the private endpoint unless public_endpoint)."
  value       = module.gke.cluster_endpoint
}

output "cluster_certificate_authority" {
  description = "Base64-encoded CA certificate of the cluster (public), for kubeconfig."
  value       = module.gke.cluster_certificate_authority
}

output "oidc_issuer_url" {
  description = "Issuer URL of the cluster's service account tokens (https://container.googleapis.com/v1/projects/<project>/locations/<region>/clusters/<name>)."
  value       = module.gke.oidc_issuer_url
}

output "workload_pool" {
  description = "Workload Identity pool (<project>.svc.id.goog): grant serviceAccount:<pool>[<namespace>/<ksa>] roles/iam.workloadIdentityUser on a Google service account to let pods use it."
  value       = module.gke.workload_pool
}

output "node_pool_names" {
  description = "Node pool names by pool: \"system\" and one entry per tenant tier."
  value       = module.gke.node_pool_names
}

output "node_service_account_email" {
  description = "Email of the nodes' dedicated service account."
  value       = module.gke.node_service_account_email
}

output "control_plane_log_bucket_id" {
  description = "ID of the log bucket keeping the control-plane and audit logs for log_retention_days."
  value       = module.gke.control_plane_log_bucket_id
}
