# Values come from the environment model through infractl; nothing here is
# environment-specific.

variable "key_vault_id" {
  description = "Resource ID of the kms stack's Key Vault (kms stack output key_vault_id): the registry's identity is granted the registry key in it."
  type        = string
}

variable "registry_key_id" {
  description = "Versionless Key Vault key ID of the registry key (kms stack output registry_key_id). Fixed when the registry is created."
  type        = string
}

variable "repositories" {
  description = "Image names, one repository each (<environment>/<image>). The same in every environment: a release is promoted between them."
  type        = list(string)
  default     = ["controlplane-api", "controlplane-worker"]
  nullable    = false
}

variable "untagged_expiry_days" {
  description = "Days after which an untagged manifest is deleted (ACR retention policy, 1-365)."
  type        = number
  default     = 14
  nullable    = false
}

variable "keep_releases" {
  description = "Release images (tags starting with a release_tag_prefixes entry) kept per repository by the daily purge task, newest first."
  type        = number
  default     = 30
  nullable    = false
}

variable "release_tag_prefixes" {
  description = "Tag prefixes of release images (default \"v\": v1.4.0). Other tags are never purged."
  type        = list(string)
  default     = ["v"]
  nullable    = false
}

variable "pull_principal_ids" {
  description = "Entra object IDs of the next stage's identities (e.g. its cluster's kubelet identity) granted AcrPull: pull only. Empty: only this subscription's role assignments decide."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "private_endpoint_subnet_id" {
  description = "Subnet of the registry's private endpoint (a network stack private subnet): the registry has no public network access."
  type        = string
}

variable "virtual_network_id" {
  description = "VNet linked to the registry's private DNS zone (network stack output network_id)."
  type        = string
}
