################################################################################
# IAM database authentication: one Google service account per database owner
# (no key; workloads impersonate it through Workload Identity), registered as
# an IAM database user of the instance and allowed to log in to this instance
# only. No database password exists for the applications.
################################################################################

locals {
  owners = toset([for db, v in var.databases : v.owner])

  # Each owner's service account ID: service_account_ids, else <prefix>-pg-<owner with _ as ->.
  service_account_ids = { for owner in local.owners : owner => lookup(var.service_account_ids, owner, "${var.service_account_prefix}-pg-${replace(owner, "_", "-")}") }

  # Cloud SQL names an IAM service account's database user after its email
  # without ".gserviceaccount.com".
  iam_users = { for owner, sa in google_service_account.owner : owner => trimsuffix(sa.email, ".gserviceaccount.com") }

  # The form of Google's Cloud SQL IAM conditions sample.
  instance_condition = "resource.type == \"sqladmin.googleapis.com/Instance\" && resource.name == \"projects/${var.project_id}/instances/${var.name}\""
}

resource "google_service_account" "owner" {
  for_each = local.owners

  account_id   = local.service_account_ids[each.key]
  display_name = "${var.name} database owner ${each.key}"
  description  = "Logs in to Cloud SQL instance ${var.name} as IAM database user, member of the owner role ${each.key}. No keys: workloads impersonate it through Workload Identity."

  lifecycle {
    precondition {
      condition     = can(regex("^[a-z]([a-z0-9-]{4,28}[a-z0-9])$", local.service_account_ids[each.key]))
      error_message = "The service account ID ${local.service_account_ids[each.key]} is not 6-30 characters of lowercase letters, digits and hyphens starting with a letter: shorten the service_account_prefix or the owner name, or set service_account_ids."
    }
  }
}

resource "google_sql_user" "owner" {
  for_each = local.owners

  instance = google_sql_database_instance.this.name
  name     = local.iam_users[each.key]
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}

# Log in (cloudsql.instances.login) and connect through the Cloud SQL
# connectors (cloudsql.instances.connect) to this instance only.
resource "google_project_iam_member" "instance_user" {
  for_each = local.owners

  project = var.project_id
  role    = "roles/cloudsql.instanceUser"
  member  = "serviceAccount:${google_service_account.owner[each.key].email}"

  condition {
    title       = "${var.name}-only"
    description = "Only Cloud SQL instance ${var.name}."
    expression  = local.instance_condition
  }
}

resource "google_project_iam_member" "client" {
  for_each = local.owners

  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = "serviceAccount:${google_service_account.owner[each.key].email}"

  condition {
    title       = "${var.name}-only"
    description = "Only Cloud SQL instance ${var.name}."
    expression  = local.instance_condition
  }
}
