# Values come from environments/<env>.yaml and the network and kms stacks
# through infractl; nothing here is environment-specific. The aks module
# validates every value further.

variable "subnet_ids" {
  description = "IDs of the private subnets (network stack output private_subnet_ids). Every node pool spans the zones on the first one: an AKS node pool takes one subnet."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "At least one private subnet ID must be given."
  }
}

variable "zones" {
  description = "Availability zones the node pools spread over (network stack output zones)."
  type        = list(string)
  nullable    = false
}

variable "apiserver_subnet_id" {
  description = "ID of the subnet delegated to AKS for API Server VNet Integration (network stack output apiserver_subnet_id)."
  type        = string
}

variable "nat_gateway_mode" {
  description = "The environment's nat_gateway_mode, as given to the network stack: \"none\" gives the nodes no egress (outbound type none), anything else egress through the subnet's NAT gateway."
  type        = string

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be one of \"none\", \"single\" or \"per_az\"."
  }
}

variable "key_vault_id" {
  description = "Resource ID of the kms stack's Key Vault (kms stack output key_vault_id)."
  type        = string
}

variable "secrets_key_version_id" {
  description = "Versioned ID of the cluster key (kms stack output cluster_key_version_id): AKS KMS envelope-encrypts Kubernetes secrets with it."
  type        = string
}

variable "admin_group_object_ids" {
  description = "Entra group object IDs with cluster-admin (AKS-managed Entra integration)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and the node pools, e.g. \"1.31\"."
  type        = string
}

variable "public_endpoint" {
  description = "Whether the Kubernetes API is also reachable from the internet, restricted to public_access_cidrs. The private endpoint (API Server VNet Integration) is always on. Changing it replaces the cluster."
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
  description = "Retention in days (30-730) of the Log Analytics workspace receiving the control-plane logs."
  type        = number
  default     = 90
  nullable    = false
}

variable "system_node_group" {
  description = "System node pool (platform add-ons): Azure VM sizes (the first is used), min/max/desired node count and OS disk size in GiB."
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
  description = "Tenant node pools keyed by tier name (1-12 lowercase letters and digits, the AKS pool name), one user node pool each; same object as system_node_group."
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

variable "tier_tenants" {
  description = "Tiers of tenant_tiers that belong to one tier C tenant: tier name -> tenant name (the env model's tier_tenants). Their node pool carries tenant = <name>; every other resource the tenant = \"shared\" of var.tags."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for tier in keys(var.tier_tenants) : contains(keys(var.tenant_tiers), tier)])
    error_message = "Every tier of tier_tenants must be a tier of tenant_tiers."
  }
}
