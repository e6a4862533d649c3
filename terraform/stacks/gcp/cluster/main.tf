resource "google_project_service" "this" {
  for_each = toset(["binaryauthorization.googleapis.com", "container.googleapis.com", "logging.googleapis.com"])

  service = each.value

  # Other stacks use the same APIs: destroying this stack never turns them off.
  disable_on_destroy = false
}

module "gke" {
  source = "../../../modules/gcp/gke"

  name               = var.environment
  project_id         = var.project_id
  region             = var.region
  zones              = var.zones
  kubernetes_version = var.kubernetes_version

  network_id          = var.network_id
  network_cidr        = var.network_cidr
  subnet_id           = var.subnet_ids[0]
  pods_range_name     = var.pods_range_name
  services_range_name = var.services_range_name

  public_endpoint     = var.public_endpoint
  public_access_cidrs = var.public_access_cidrs

  secrets_kms_key_id = var.secrets_kms_key_id
  logs_kms_key_id    = var.logs_kms_key_id
  log_retention_days = var.log_retention_days

  system_node_pool = var.system_node_group
  tenant_tiers     = { for tier, group in var.tenant_tiers : tier => merge(group, { tenant = lookup(var.tier_tenants, tier, null) }) }

  deletion_protection = var.deletion_protection

  # The environment's labels again for the nodes' instances, which
  # default_labels does not reach.
  labels = merge(local.labels, { stack = "cluster" })

  depends_on = [google_project_service.this]
}
