terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.28: subnet flow logs (log_config alone works again), transfer job
      # metadata_options (6.27), private nodes without a master CIDR (6.11).
      version = ">= 6.28, < 7.0"
    }

    # The artifact-registry module's google_project_service_identity (the
    # Artifact Registry service agent) exists only in google-beta.
    google-beta = {
      source = "hashicorp/google-beta"
      # 6.28: subnet flow logs (log_config alone works again), transfer job
      # metadata_options (6.27), private nodes without a master CIDR (6.11).
      version = ">= 6.28, < 7.0"
    }
  }

  # Partial configuration: infractl passes the state bucket and prefix with
  # -backend-config at init, so this stack is the same for every environment.
  backend "gcs" {}
}
