# Values come from environments/<env>.yaml and the network and kms stacks
# through infractl; nothing here is environment-specific. The gke module
# validates every value further.

variable "network_id" {
  description = "ID of the VPC network (network stack output network_id)."
  type        = string
}

variable "network_cidr" {
  description = "IPv4 address space of the network (network stack output network_cidr): an authorized network of the control plane's private endpoint."
  type        = string
}

variable "subnet_ids" {
  description = "The private subnet of the nodes, as the one-element list the network stack outputs (network stack output private_subnet_ids): GCP subnets are regional."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.subnet_ids) == 1
    error_message = "The subnet_ids must hold exactly one subnet: the network stack's regional private subnet."
  }
}

variable "pods_range_name" {
  description = "Name of the subnet's secondary range for pods (network stack output pods_range_name)."
  type        = string
}

variable "services_range_name" {
  description = "Name of the subnet's secondary range for services (network stack output services_range_name)."
  type        = string
}

variable "zones" {
  description = "Zones the node pools spread over (network stack output zones)."
  type        = list(string)
  nullable    = false
}

variable "secrets_kms_key_id" {
  description = "Crypto key ID encrypting Kubernetes secrets (kms stack output cluster_key_id); this stack grants the GKE service agent on it."
  type        = string
}

variable "logs_kms_key_id" {
  description = "Crypto key ID encrypting the control-plane log bucket (kms stack output logs_key_id)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane, e.g. \"1.31\" (its minimum: GKE upgrades within the release channel, node pools follow)."
  type        = string
}

variable "public_endpoint" {
  description = "Whether the Kubernetes API is also reachable from the internet, restricted to public_access_cidrs. The private endpoint is always on."
  type        = bool
  default     = false
  nullable    = false
}

variable "public_access_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the public API endpoint; required (non-empty, without 0.0.0.0/0) when public_endpoint is true."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "log_retention_days" {
  description = "Days the control-plane and audit logs are kept in their log bucket (1-3650)."
  type        = number
  default     = 90
  nullable    = false
}

variable "system_node_group" {
  description = "System node pool (platform add-ons): machine types (the first is used), min/max/desired node counts over all zones, boot disk size in GiB."
  type = object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_gib       = number
  })
  nullable = false
}

variable "tenant_tiers" {
  description = "Tenant node pools keyed by tier name (lowercase, e.g. \"standard\", \"premium\"), one GKE node pool each; same object as system_node_group."
  type = map(object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_gib       = number
  }))
  default  = {}
  nullable = false
}

variable "deletion_protection" {
  description = "Refuse to destroy the cluster (GKE deletion protection in the provider). Set false and apply before destroying the stack."
  type        = bool
  default     = true
  nullable    = false
}

variable "tier_tenants" {
  description = "Tiers of tenant_tiers that belong to one tier C tenant: tier name -> tenant name (the env model's tier_tenants). Their node pool carries tenant = <name>; every other resource the tenant = \"shared\" of var.tags (the provider's default_labels)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for tier in keys(var.tier_tenants) : contains(keys(var.tenant_tiers), tier)])
    error_message = "Every tier of tier_tenants must be a tier of tenant_tiers."
  }
}
