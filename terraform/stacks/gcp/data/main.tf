resource "google_project_service" "this" {
  for_each = toset(["iam.googleapis.com", "sqladmin.googleapis.com"])

  service = each.value

  # Other stacks use the same APIs: destroying this stack never turns them off.
  disable_on_destroy = false
}

locals {
  identifier = "${var.environment}-control-plane"

  # Backup retention sized from the environment's RPO, as on AWS. The RPO itself
  # is met by point-in-time recovery from the transaction logs; the retention
  # decides how far back a restore from a daily backup can go, and a tight RPO
  # marks an environment whose data matters:
  #   rpo <= 15 min -> 35 daily backups   e.g. prod    (15)
  #   rpo <= 60 min -> 14 daily backups   e.g. staging (60)
  #   otherwise     ->  7 daily backups   e.g. dev     (1440)
  backup_retention_days = var.rpo_minutes <= 15 ? 35 : var.rpo_minutes <= 60 ? 14 : 7

  # The point-in-time window: the Enterprise edition keeps at most 7 days of
  # transaction logs.
  transaction_log_retention_days = min(7, local.backup_retention_days)

  # A tier C tenant's database and its owner role: tenant_<name with - as _>.
  tenant_databases = { for name in keys(var.tenant_instances) : name => "tenant_${replace(name, "-", "_")}" }
}

module "cloudsql" {
  source = "../../../modules/gcp/cloudsql"

  name                      = local.identifier
  project_id                = var.project_id
  region                    = var.region
  database_version          = var.engine_version
  edition                   = "ENTERPRISE"
  tier                      = var.instance_class
  disk_size_gib             = var.allocated_storage_gib
  disk_autoresize_limit_gib = var.max_allocated_storage_gib
  high_availability         = var.multi_az
  kms_key_id                = var.kms_key_id
  network_id                = var.network_id

  backup_retention_days          = local.backup_retention_days
  transaction_log_retention_days = local.transaction_log_retention_days
  deletion_protection            = var.deletion_protection

  # databases: the module default (app, temporal, temporal_visibility).
  service_account_prefix = var.environment

  # The environment's labels again as the instance's user_labels, which
  # default_labels does not reach.
  labels = merge(local.labels, { stack = "data" })

  depends_on = [google_project_service.this]
}

################################################################################
# Dedicated instances of tier C tenants
#
# One instance <environment>-tenant-<name> per tenant in tenant_instances,
# built by the same module as the shared instance: same edition, key, network,
# backups and deletion protection; one database tenant_<name with - as _>
# owned by the role of the same name, whose IAM database user is its own
# service account (pg-tenant-<hash of environment/name>: <prefix>-pg-<owner>
# would not fit 30 characters). The shared instance's module holds the one
# grant of the key to the Cloud SQL service agent; these take the key through
# it (module.cloudsql.kms_key_id), so they wait for the grant only. The other
# tier C tenants' databases live on the shared instance.
################################################################################

module "tenant_cloudsql" {
  source   = "../../../modules/gcp/cloudsql"
  for_each = var.tenant_instances

  name                      = "${var.environment}-tenant-${each.key}"
  project_id                = var.project_id
  region                    = var.region
  database_version          = var.engine_version
  edition                   = "ENTERPRISE"
  tier                      = each.value.instance_class
  disk_size_gib             = each.value.allocated_storage_gib
  disk_autoresize_limit_gib = each.value.max_allocated_storage_gib
  high_availability         = each.value.multi_az
  kms_key_id                = module.cloudsql.kms_key_id
  grant_kms_key             = false
  network_id                = var.network_id

  backup_retention_days          = local.backup_retention_days
  transaction_log_retention_days = local.transaction_log_retention_days
  deletion_protection            = var.deletion_protection

  databases              = { (local.tenant_databases[each.key]) = { owner = local.tenant_databases[each.key] } }
  service_account_prefix = var.environment
  service_account_ids    = { (local.tenant_databases[each.key]) = "pg-tenant-${substr(sha1("${var.environment}/${each.key}"), 0, 12)}" }

  labels = merge(local.labels, { stack = "data", tenant = each.key })

  depends_on = [google_project_service.this]
}
