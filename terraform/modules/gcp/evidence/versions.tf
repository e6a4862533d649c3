terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.15 added replication_spec (cross-bucket replication) to
      # google_storage_transfer_job.
      version = ">= 6.15, < 7.0"
    }
  }
}
