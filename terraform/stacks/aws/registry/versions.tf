terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }

  # Partial configuration: infractl passes bucket, key, region and locking
  # settings with -backend-config at init, so this stack is the same for every
  # environment and for the emulator.
  backend "s3" {}
}
