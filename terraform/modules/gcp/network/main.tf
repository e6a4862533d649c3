locals {
  # Carving (see README), for a /16 (prefix p, 16 <= p <= 18):
  #   nodes                   : newbits 4, index 0  -> 10.x.0.0/20   (primary range of the subnet)
  #   services                : newbits 4, index 1  -> 10.x.16.0/20  (secondary range)
  #   private services access : newbits 4, index 2  -> 10.x.32.0/20  (Cloud SQL and other producers)
  #   (indexes 3-7 of the first half stay free)
  #   pods                    : newbits 1, index 1  -> 10.x.128.0/17 (secondary range)
  nodes_cidr            = cidrsubnet(var.cidr, 4, 0)
  services_cidr         = cidrsubnet(var.cidr, 4, 1)
  private_services_cidr = cidrsubnet(var.cidr, 4, 2)
  pods_cidr             = cidrsubnet(var.cidr, 1, 1)

  pods_range_name     = "${var.name}-pods"
  services_range_name = "${var.name}-services"
}

################################################################################
# Network and the private subnet
################################################################################

# Custom mode: no subnet exists but the ones declared here.
resource "google_compute_network" "this" {
  name                    = var.name
  description             = "${var.name}: private network of the environment (custom mode)."
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"

  # The default route to the internet gateway stays: Cloud NAT and Private
  # Google Access both leave through it. Without NAT, instances with no
  # external address (all of them here) still cannot reach the internet.
  delete_default_routes_on_create = false
}

# GCP subnets are regional: one subnet spans every zone of the region, so the
# nodes of every zone share it (AWS needs one subnet per availability zone).
resource "google_compute_subnetwork" "private" {
  name          = "${var.name}-private"
  description   = "${var.name}: workloads (GKE nodes); pods and services in the secondary ranges. No external addresses; Google APIs through Private Google Access."
  network       = google_compute_network.this.id
  region        = var.region
  ip_cidr_range = local.nodes_cidr
  stack_type    = "IPV4_ONLY"

  # Google APIs and services (Cloud Storage, Artifact Registry, Cloud KMS...)
  # from instances without external addresses, without the internet.
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = local.pods_range_name
    ip_cidr_range = local.pods_cidr
  }

  secondary_ip_range {
    range_name    = local.services_range_name
    ip_cidr_range = local.services_cidr
  }

  # VPC flow logs of the subnet, to Cloud Logging (see flow_logs.tf for their
  # retention).
  log_config {
    aggregation_interval = var.flow_log_aggregation_interval
    flow_sampling        = var.flow_log_sampling
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

################################################################################
# Private services access: Cloud SQL (and other Google-managed producers) get
# private addresses from a range of this network, over VPC peering.
################################################################################

resource "google_compute_global_address" "private_services" {
  name          = "${var.name}-private-services"
  description   = "${var.name}: range reserved for private services access (Cloud SQL)."
  network       = google_compute_network.this.id
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  address       = cidrhost(local.private_services_cidr, 0)
  prefix_length = tonumber(split("/", local.private_services_cidr)[1])
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.this.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]

  # The producer side keeps the peering for a while after its last instance
  # is deleted, and refuses its removal meanwhile: a destroy abandons the
  # connection instead of failing (it goes with the network).
  deletion_policy = "ABANDON"
}
