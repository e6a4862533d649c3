################################################################################
# Default deny: GCP already denies ingress implicitly (priority 65535, not
# logged). This explicit rule, just above it, denies and logs every ingress that
# no rule of a higher priority allows. Egress stays open (the implied allow):
# nodes must reach the control plane, Google APIs and, through Cloud NAT, the
# internet.
################################################################################

resource "google_compute_firewall" "deny_all_ingress" {
  name        = "${var.name}-deny-all-ingress"
  description = "${var.name}: deny (and log) every ingress not explicitly allowed."
  network     = google_compute_network.this.id
  direction   = "INGRESS"
  priority    = 65534

  source_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# The network's own address space (nodes, pods, services, private services
# access) may talk to itself. GKE adds its own rules for the control plane and
# for the load balancers' health checks.
resource "google_compute_firewall" "allow_internal" {
  name        = "${var.name}-allow-internal"
  description = "${var.name}: allow traffic between the network's own ranges."
  network     = google_compute_network.this.id
  direction   = "INGRESS"
  priority    = 1000

  source_ranges = [var.cidr]

  allow {
    protocol = "tcp"
  }

  allow {
    protocol = "udp"
  }

  allow {
    protocol = "icmp"
  }
}
