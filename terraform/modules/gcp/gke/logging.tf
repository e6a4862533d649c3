################################################################################
# Control-plane log retention: GKE writes the API server, scheduler and
# controller manager logs (logging_config) and the Kubernetes audit logs to
# Cloud Logging, whose _Default bucket keeps them 30 days. A sink copies this
# cluster's into a log bucket kept log_retention_days, encrypted with the logs
# key.
################################################################################

module "control_plane_logs" {
  source = "../log-bucket"

  project_id     = var.project_id
  name           = "${var.name}-gke-control-plane"
  description    = "${var.name}: control-plane and audit logs of GKE cluster ${var.name}, kept ${var.log_retention_days} days."
  location       = var.region
  retention_days = var.log_retention_days
  kms_key_id     = var.logs_kms_key_id

  filter = join(" AND ", [
    "(resource.type=\"k8s_cluster\" OR resource.type=\"k8s_control_plane_component\")",
    "resource.labels.cluster_name=\"${var.name}\"",
    "resource.labels.location=\"${var.region}\"",
  ])
}
