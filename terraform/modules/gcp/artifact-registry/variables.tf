variable "project_id" {
  description = "Project of the repository."
  type        = string
}

variable "location" {
  description = "Region of the repository, e.g. \"europe-west1\" (the key must be in the same region)."
  type        = string
}

variable "repository_id" {
  description = "Repository ID, e.g. the environment name: images are <location>-docker.pkg.dev/<project>/<repository_id>/<image>."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.repository_id))
    error_message = "The repository_id must be 1-63 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "repositories" {
  description = "Image names (packages of the repository), e.g. [\"controlplane-api\", \"controlplane-worker\"]."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.repositories) >= 1 && alltrue([for r in var.repositories : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", r))])
    error_message = "At least one image name must be given, each lowercase letters and digits separated by single \".\", \"_\" or \"-\"."
  }
}

variable "kms_key_id" {
  description = "Crypto key ID (projects/<project>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>) that encrypts the repository. Fixed when the repository is created."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_id))
    error_message = "The kms_key_id must be a crypto key ID such as \"projects/p/locations/europe-west1/keyRings/dev/cryptoKeys/registry\"."
  }
}

variable "untagged_expiry_days" {
  description = "Days after its upload that an untagged version is deleted."
  type        = number
  default     = 14
  nullable    = false

  validation {
    condition     = var.untagged_expiry_days >= 1 && floor(var.untagged_expiry_days) == var.untagged_expiry_days
    error_message = "The untagged_expiry_days must be a whole number of at least 1."
  }
}

variable "keep_releases" {
  description = "Versions kept per image, newest first, whatever else the cleanup policies say."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.keep_releases >= 1 && floor(var.keep_releases) == var.keep_releases
    error_message = "The keep_releases must be a whole number of at least 1."
  }
}

variable "release_tag_prefixes" {
  description = "Tag prefixes of release images (default \"v\"): release versions beyond the newest keep_releases are deleted."
  type        = list(string)
  default     = ["v"]
  nullable    = false
}

variable "reader_members" {
  description = "IAM members of the next stage (e.g. \"serviceAccount:nodes@prod-project.iam.gserviceaccount.com\") granted roles/artifactregistry.reader on the repository: pull only."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for m in var.reader_members : can(regex("^(serviceAccount|group|user|principal|principalSet):.+$", m)) && !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "Each reader_members entry must be an IAM member such as \"serviceAccount:...\" or \"group:...\"; allUsers and allAuthenticatedUsers are refused."
  }
}

variable "labels" {
  description = "Labels on the repository, in addition to the provider's default_labels."
  type        = map(string)
  default     = {}
  nullable    = false
}
