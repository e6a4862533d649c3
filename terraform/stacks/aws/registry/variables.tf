# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "kms_key_arn" {
  description = "ARN of the kms stack's registry key (output registry_key_id): encrypts every image. Fixed when a repository is created."
  type        = string
  nullable    = false
}

variable "repositories" {
  description = "Image names, one repository each (<environment>/<image>). The same in every environment: a release is promoted between them."
  type        = list(string)
  default     = ["controlplane-api", "controlplane-worker"]
  nullable    = false
}

variable "untagged_expiry_days" {
  description = "Days after its push that an untagged image expires (1-3650)."
  type        = number
  default     = 14
  nullable    = false
}

variable "keep_releases" {
  description = "Release images (tags starting with a release_tag_prefixes entry) kept per repository: the newest this many; older ones expire (1-10000)."
  type        = number
  default     = 30
  nullable    = false
}

variable "release_tag_prefixes" {
  description = "Tag prefixes of release images (default \"v\": v1.4.0). Images with other tags (signatures, attestations) never expire."
  type        = list(string)
  default     = ["v"]
  nullable    = false
}

variable "pull_account_ids" {
  description = "AWS accounts allowed to pull from every repository (the next stage's: dev lists staging's, staging lists prod's); pull only, no push. Empty: no repository policy."
  type        = list(string)
  default     = []
  nullable    = false
}
