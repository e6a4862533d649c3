resource "google_project_service" "this" {
  for_each = toset(["compute.googleapis.com", "logging.googleapis.com", "servicenetworking.googleapis.com"])

  service = each.value

  # Other stacks use the same APIs: destroying this stack never turns them off.
  disable_on_destroy = false
}

# The region's zones that are up, in name order, so that a larger az_count
# appends zones instead of reshuffling them. Subnets are regional in GCP: the
# zones only place the cluster's nodes (output zones).
data "google_compute_zones" "available" {
  project = var.project_id
  region  = var.region
  status  = "UP"

  lifecycle {
    postcondition {
      condition     = length(self.names) >= var.az_count
      error_message = "The region ${var.region} has ${length(self.names)} zones up, fewer than az_count = ${var.az_count}."
    }
  }

  depends_on = [google_project_service.this]
}

locals {
  zones = slice(sort(data.google_compute_zones.available.names), 0, var.az_count)
}

module "network" {
  source = "../../../modules/gcp/network"

  name                    = var.environment
  project_id              = var.project_id
  region                  = var.region
  cidr                    = var.cidr
  nat_gateway_mode        = var.nat_gateway_mode
  flow_log_retention_days = var.flow_log_retention_days
  flow_log_kms_key_id     = var.flow_log_kms_key_id

  depends_on = [google_project_service.this]
}
