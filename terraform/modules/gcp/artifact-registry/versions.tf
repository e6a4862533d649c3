terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.28: subnet flow logs (log_config alone works again), transfer job
      # metadata_options (6.27), private nodes without a master CIDR (6.11).
      version = ">= 6.28, < 7.0"
    }

    # google_project_service_identity (the Artifact Registry service agent,
    # which must hold the CMEK key before the repository exists) is only in
    # google-beta.
    google-beta = {
      source = "hashicorp/google-beta"
      # 6.28: subnet flow logs (log_config alone works again), transfer job
      # metadata_options (6.27), private nodes without a master CIDR (6.11).
      version = ">= 6.28, < 7.0"
    }
  }
}
