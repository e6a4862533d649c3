terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 7.0"
    }
  }

  # Partial configuration: infractl passes the state bucket and prefix with
  # -backend-config at init, so this stack is the same for every environment.
  backend "gcs" {}
}
