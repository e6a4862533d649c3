terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.15 added replication_spec to google_storage_transfer_job (the
      # evidence module's cross-bucket replication).
      version = ">= 6.15, < 7.0"
    }
  }

  # Partial configuration: infractl passes the state bucket and prefix with
  # -backend-config at init, so this stack is the same for every environment.
  backend "gcs" {}
}
