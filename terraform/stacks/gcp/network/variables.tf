# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "cidr" {
  description = "IPv4 address space of the network, /16 to /18 (e.g. \"10.20.0.0/16\"). The network module validates it further and carves the node, pod, service and private services access ranges from it."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.cidr))
    error_message = "The cidr must be an IPv4 CIDR block such as \"10.20.0.0/16\"."
  }
}

variable "az_count" {
  description = "Number of zones (1-4) the workloads spread over: the first az_count zones of the region in name order, output as zones for the cluster's node pools. The subnet itself is regional and spans every zone whatever this number."
  type        = number

  validation {
    condition     = var.az_count >= 1 && var.az_count <= 4 && floor(var.az_count) == var.az_count
    error_message = "The az_count must be a whole number from 1 to 4."
  }
}

variable "nat_gateway_mode" {
  description = "Egress for the private subnet: \"none\" (no Cloud NAT), \"single\" or \"per_az\". Cloud NAT is regional and zone-redundant: \"single\" and \"per_az\" both create one."
  type        = string

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be one of \"none\", \"single\" or \"per_az\"."
  }
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow logs are kept in their log bucket (1-3650)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.flow_log_retention_days >= 1 && var.flow_log_retention_days <= 3650 && floor(var.flow_log_retention_days) == var.flow_log_retention_days
    error_message = "The flow_log_retention_days must be a whole number from 1 to 3650 (Cloud Logging log bucket limits)."
  }
}

variable "flow_log_kms_key_id" {
  description = "Crypto key ID of the customer-managed key (the kms stack's logs key, output logs_key_id) that encrypts the flow log bucket."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.flow_log_kms_key_id))
    error_message = "The flow_log_kms_key_id must be a crypto key ID such as \"projects/p/locations/europe-west1/keyRings/prod/cryptoKeys/logs\"."
  }
}
