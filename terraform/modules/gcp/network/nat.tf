################################################################################
# Cloud NAT: egress to the internet for the private subnet. Cloud NAT is a
# regional, distributed service with no gateway instance per zone, so "single"
# and "per_az" both give one NAT, which does not depend on any one zone.
################################################################################

locals {
  nat_enabled = var.nat_gateway_mode != "none"
}

resource "google_compute_router" "this" {
  count = local.nat_enabled ? 1 : 0

  name        = var.name
  description = "${var.name}: Cloud Router of the Cloud NAT."
  network     = google_compute_network.this.id
  region      = var.region
}

resource "google_compute_router_nat" "this" {
  count = local.nat_enabled ? 1 : 0

  name   = var.name
  router = google_compute_router.this[0].name
  region = var.region

  # Google-allocated external addresses, added as the NAT needs more ports.
  nat_ip_allocate_option = "AUTO_ONLY"

  # Only the private subnet, all of its ranges (nodes and pods).
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"

  subnetwork {
    name                    = google_compute_subnetwork.private.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  enable_dynamic_port_allocation      = true
  enable_endpoint_independent_mapping = false
  min_ports_per_vm                    = 64

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}
