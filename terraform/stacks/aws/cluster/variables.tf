# Values come from environments/<env>.yaml and the network and kms stacks
# through infractl; nothing here is environment-specific. The eks module
# validates every value further.

variable "vpc_id" {
  description = "ID of the VPC (network stack output network_id)."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC (network stack output network_cidr): it may reach the private API endpoint."
  type        = string
}

variable "subnet_ids" {
  description = "IDs of the private subnets for the control plane and the nodes, at least two in different AZs (network stack output private_subnet_ids)."
  type        = list(string)
  nullable    = false
}

variable "secrets_kms_key_arn" {
  description = "ARN of the CMK that encrypts Kubernetes secrets (kms stack output cluster_key_id)."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "ARN of the CMK that encrypts the control plane log group (kms stack output logs_key_id)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and the node groups, e.g. \"1.31\"."
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
  description = "Retention in days of the control plane log group; one of CloudWatch Logs' allowed values."
  type        = number
  default     = 90
  nullable    = false
}

variable "system_node_group" {
  description = "System node pool (platform add-ons): instance types, min/max/desired size and root volume size in GiB."
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
  description = "Tenant node pools keyed by tier name (lowercase, e.g. \"standard\", \"premium\"), one managed node group each; same object as system_node_group."
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
  description = "Tiers of tenant_tiers that belong to one tier C tenant: tier name -> tenant name (the env model's tier_tenants). Their node group, launch template and nodes' instances, volumes and network interfaces carry tenant = <name>; every other resource carries the tenant = \"shared\" of the default_tags."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for tier in keys(var.tier_tenants) : contains(keys(var.tenant_tiers), tier)])
    error_message = "Every tier of tier_tenants must be a tier of tenant_tiers."
  }
}
