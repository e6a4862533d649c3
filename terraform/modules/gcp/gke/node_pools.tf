locals {
  # Autoscaling takes the totals over every zone; initial_node_count is per
  # zone, so desired_size is spread over the zones (rounded up).
  zone_count = length(var.zones)

  pools = merge(
    {
      system = merge(var.system_node_pool, {
        k8s_labels = tomap({ "node.infractl.io/pool" = "system" })
        taint      = { key = "CriticalAddonsOnly", value = "true" }
        tenant     = null
      })
    },
    {
      for tier, spec in var.tenant_tiers : tier => merge(spec, {
        k8s_labels = tomap({ "node.infractl.io/pool" = "tenant", "node.infractl.io/tier" = tier })
        taint      = { key = "tenant-tier", value = tier }
      })
    },
  )
}

# "system" for the platform add-ons (only pods tolerating CriticalAddonsOnly
# land there) and one pool per tenant tier (only pods tolerating
# tenant-tier=<tier> land there; they select it with node.infractl.io/tier).
resource "google_container_node_pool" "this" {
  for_each = local.pools

  name           = each.key
  cluster        = google_container_cluster.this.id
  location       = var.region
  node_locations = var.zones

  initial_node_count = ceil(each.value.desired_size / local.zone_count)

  autoscaling {
    total_min_node_count = each.value.min_size
    total_max_node_count = each.value.max_size
    location_policy      = "BALANCED"
  }

  management {
    auto_repair  = true
    auto_upgrade = true # required by the release channel
  }

  upgrade_settings {
    strategy        = "SURGE"
    max_surge       = 1
    max_unavailable = 0
  }

  node_config {
    machine_type = each.value.instance_types[0]
    disk_size_gb = each.value.disk_gib
    disk_type    = "pd-balanced"
    image_type   = "COS_CONTAINERD"

    # The dedicated node service account (iam.tf), no key; workloads use their
    # own identities through Workload Identity.
    service_account = google_service_account.node.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]

    metadata = { disable-legacy-endpoints = "true" }

    # Pods see the GKE metadata server, never the node's credentials.
    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }

    labels = each.value.k8s_labels

    taint {
      key    = each.value.taint.key
      value  = each.value.taint.value
      effect = "NO_SCHEDULE"
    }

    # Labels of the Compute Engine instances: default_labels does not reach them.
    # A tier C tenant's pool: tenant = <name>, over the shared value of var.labels.
    resource_labels = merge(var.labels, each.value.tenant == null ? tomap({}) : tomap({ tenant = each.value.tenant }), { node-pool = each.key })
  }

  lifecycle {
    # The autoscaler owns the node count after creation.
    ignore_changes = [initial_node_count]
  }
}
