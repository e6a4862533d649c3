terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 7.0"
    }

    # The cloudsql module's google_project_service_identity (the Cloud SQL
    # service agent) exists only in google-beta.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.0, < 7.0"
    }
  }

  # Partial configuration: infractl passes the state bucket and prefix with
  # -backend-config at init, so this stack is the same for every environment.
  backend "gcs" {}
}
