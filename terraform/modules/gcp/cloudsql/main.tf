locals {
  port = 5432

  # Automatic storage increase only when there is room to grow.
  disk_autoresize = var.disk_autoresize_limit_gib > var.disk_size_gib
}

################################################################################
# CMEK: the Cloud SQL service agent encrypts the instance's storage and backups
# with the key, so it must hold the key before the instance is created.
################################################################################

resource "google_project_service_identity" "cloudsql" {
  provider = google-beta

  project = var.project_id
  service = "sqladmin.googleapis.com"
}

# One grant per key and agent: a second instance of the project with the same
# key passes grant_kms_key = false (and this module's kms_key_id output as its
# key), or destroying it would revoke the member the others rely on.
resource "google_kms_crypto_key_iam_member" "cloudsql" {
  count = var.grant_kms_key ? 1 : 0

  crypto_key_id = var.kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_project_service_identity.cloudsql.email}"
}

moved {
  from = google_kms_crypto_key_iam_member.cloudsql
  to   = google_kms_crypto_key_iam_member.cloudsql[0]
}

################################################################################
# The instance
################################################################################

resource "google_sql_database_instance" "this" {
  name             = var.name
  region           = var.region
  database_version = var.database_version

  encryption_key_name = var.kms_key_id

  # Terraform refuses to destroy it; settings.deletion_protection_enabled below
  # makes the Cloud SQL API refuse too (console, gcloud).
  deletion_protection = var.deletion_protection

  settings {
    edition           = var.edition
    tier              = var.tier
    availability_type = var.high_availability ? "REGIONAL" : "ZONAL"

    disk_type             = "PD_SSD"
    disk_size             = var.disk_size_gib
    disk_autoresize       = local.disk_autoresize
    disk_autoresize_limit = local.disk_autoresize ? var.disk_autoresize_limit_gib : 0

    deletion_protection_enabled = var.deletion_protection

    # Private address only, from the network's private services access range;
    # no public address. Only TLS connections with a client certificate the
    # instance trusts: in practice the Cloud SQL Auth Proxy and the Cloud SQL
    # language connectors, which get short-lived certificates through IAM
    # (cloudsql.instances.connect) and log the IAM database users in.
    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
      ssl_mode        = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    # Daily backups kept backup_retention_days, and the transaction logs for
    # point-in-time recovery kept transaction_log_retention_days.
    backup_configuration {
      enabled                        = true
      start_time                     = "02:00"
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = var.transaction_log_retention_days

      backup_retention_settings {
        retained_backups = var.backup_retention_days
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = 7 # Sunday
      hour         = 3
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      record_client_address   = false
      record_application_tags = false
    }

    # IAM database authentication, and the CIS logging flags.
    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }

    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }

    database_flags {
      name  = "log_connections"
      value = "on"
    }

    database_flags {
      name  = "log_disconnections"
      value = "on"
    }

    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }

    database_flags {
      name  = "log_min_messages"
      value = "warning"
    }

    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }

    database_flags {
      name  = "log_statement"
      value = "ddl"
    }

    database_flags {
      name  = "log_temp_files"
      value = "0"
    }

    # -1: statements are not logged for their duration, so query texts (and
    # the values in them) stay out of the logs (CIS).
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }

    user_labels = var.labels
  }

  depends_on = [google_kms_crypto_key_iam_member.cloudsql]
}
