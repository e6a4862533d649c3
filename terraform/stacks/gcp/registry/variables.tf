# Values come from the environment model through infractl; nothing here is
# environment-specific.

variable "registry_key_id" {
  description = "Crypto key ID of the registry key (kms stack output registry_key_id), in the stack's region. Fixed when the repository is created."
  type        = string
}

variable "repositories" {
  description = "Image names, one package each (<environment>/<image>). The same in every environment: a release is promoted between them."
  type        = list(string)
  default     = ["controlplane-api", "controlplane-worker"]
  nullable    = false
}

variable "untagged_expiry_days" {
  description = "Days after its upload that an untagged version is deleted."
  type        = number
  default     = 14
  nullable    = false
}

variable "keep_releases" {
  description = "Versions kept per image, newest first (the cleanup policy's keep count); older release versions are deleted."
  type        = number
  default     = 30
  nullable    = false
}

variable "release_tag_prefixes" {
  description = "Tag prefixes of release images (default \"v\": v1.4.0)."
  type        = list(string)
  default     = ["v"]
  nullable    = false
}

variable "reader_members" {
  description = "IAM members of the next stage (e.g. its GKE nodes' service account) granted roles/artifactregistry.reader on the repository: pull only."
  type        = list(string)
  default     = []
  nullable    = false
}
