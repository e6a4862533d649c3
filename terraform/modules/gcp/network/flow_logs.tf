################################################################################
# Flow log retention: the subnet's flow logs go to Cloud Logging, whose _Default
# bucket keeps them 30 days. A sink copies them into a log bucket of their own,
# kept flow_log_retention_days and encrypted with the logs key.
################################################################################

module "flow_logs" {
  source = "../log-bucket"

  project_id     = var.project_id
  name           = "${var.name}-vpc-flow-logs"
  description    = "${var.name}: VPC flow logs of subnet ${google_compute_subnetwork.private.name}, kept ${var.flow_log_retention_days} days."
  location       = var.region
  retention_days = var.flow_log_retention_days
  kms_key_id     = var.flow_log_kms_key_id

  filter = join(" AND ", [
    "resource.type=\"gce_subnetwork\"",
    "logName=\"projects/${var.project_id}/logs/compute.googleapis.com%2Fvpc_flows\"",
    "resource.labels.subnetwork_name=\"${google_compute_subnetwork.private.name}\"",
  ])
}
