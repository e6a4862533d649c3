locals {
  workload_pool = "${var.project_id}.svc.id.goog"

  # Authorized networks of the control plane: the VPC always (private
  # endpoint), the public allowlist only with a public endpoint.
  authorized_networks = concat(
    [{ cidr_block = var.network_cidr, display_name = "${var.name}-vpc" }],
    [for c in var.public_access_cidrs : { cidr_block = c, display_name = "public-${replace(c, "/", "-")}" }],
  )
}

# Regional cluster: the control plane is replicated over the region's zones.
resource "google_container_cluster" "this" {
  #checkov:skip=CKV_GCP_21:resource_labels is var.labels, the environment's converted tags passed by the stack (and the provider's default_labels adds them too); checkov cannot resolve the stack's value
  #checkov:skip=CKV_GCP_65:Google Groups for RBAC needs a Google Workspace or Cloud Identity gke-security-groups group in the organization, which the platform does not assume; RBAC binds Google identities and Kubernetes service accounts directly
  name        = var.name
  description = "${var.name}: Temporal and the control plane; system node pool and one node pool per tenant tier."
  location    = var.region

  # Node pools are separate resources (node_pools.tf); GKE still needs a
  # default pool to create the cluster, removed right after.
  remove_default_node_pool = true
  initial_node_count       = 1
  node_locations           = var.zones

  min_master_version = var.kubernetes_version

  release_channel {
    channel = var.release_channel
  }

  deletion_protection = var.deletion_protection

  # VPC-native: pods and services take the subnet's secondary ranges.
  network         = var.network_id
  subnetwork      = var.subnet_id
  networking_mode = "VPC_NATIVE"

  ip_allocation_policy {
    cluster_secondary_range_name  = var.pods_range_name
    services_secondary_range_name = var.services_range_name
    stack_type                    = "IPV4"
  }

  # Dataplane V2 (eBPF) enforces Kubernetes NetworkPolicy itself: the Calico
  # network policy add-on stays off.
  datapath_provider           = "ADVANCED_DATAPATH"
  enable_intranode_visibility = true

  network_policy {
    enabled = false
  }

  # Private nodes always; the control plane's private endpoint always, its
  # public endpoint only with public_endpoint (and then only for the
  # authorized networks).
  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = !var.public_endpoint
  }

  master_authorized_networks_config {
    gcp_public_cidrs_access_enabled = false
    # The allowlist applies to the private endpoint too, not only the public one.
    private_endpoint_enforcement_enabled = true

    dynamic "cidr_blocks" {
      for_each = local.authorized_networks
      content {
        cidr_block   = cidr_blocks.value.cidr_block
        display_name = cidr_blocks.value.display_name
      }
    }
  }

  # No client certificate, no basic auth, no legacy ABAC: IAM and RBAC only.
  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }

  enable_legacy_abac = false

  # Workload Identity: pods get Google identities from their Kubernetes
  # service account, through the GKE metadata server of every node pool.
  workload_identity_config {
    workload_pool = local.workload_pool
  }

  # Application-layer secrets encryption with the cluster key.
  database_encryption {
    state    = "ENCRYPTED"
    key_name = var.secrets_kms_key_id
  }

  enable_shielded_nodes = true

  binary_authorization {
    evaluation_mode = "PROJECT_SINGLETON_POLICY_ENFORCE"
  }

  # Control-plane logs to Cloud Logging (see logging.tf for their retention).
  logging_config {
    enable_components = ["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS"]
  }

  monitoring_config {
    enable_components = ["SYSTEM_COMPONENTS"]
  }

  addons_config {
    http_load_balancing {
      disabled = false
    }

    horizontal_pod_autoscaling {
      disabled = false
    }

    gce_persistent_disk_csi_driver_config {
      enabled = true
    }
  }

  # The short-lived default pool: the same hardening as the real pools.
  node_config {
    service_account = google_service_account.node.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    image_type      = "COS_CONTAINERD"
    metadata        = { disable-legacy-endpoints = "true" }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }

  resource_labels = var.labels

  lifecycle {
    # The default pool exists only while the cluster is created: its settings
    # never matter again, and a change would replace the cluster.
    ignore_changes = [node_config, initial_node_count]
  }

  # The GKE service agent must be able to use the secrets key before the
  # cluster encrypts anything with it.
  depends_on = [
    google_kms_crypto_key_iam_member.gke_secrets,
    google_project_iam_member.node,
  ]
}
