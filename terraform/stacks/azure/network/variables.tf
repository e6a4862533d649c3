# Values come from environments/<env>.yaml and the kms stack through infractl;
# nothing here is environment-specific. The network module validates further.

variable "cidr" {
  description = "IPv4 address space of the VNet, /16 to /24 (e.g. \"10.20.0.0/16\"). The network module carves the subnets from it."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.cidr))
    error_message = "The cidr must be an IPv4 CIDR block such as \"10.20.0.0/16\"."
  }
}

variable "az_count" {
  description = "Number of availability zones to serve (1-3: Azure regions have three): zones \"1\" to \"<az_count>\", one private subnet each."
  type        = number

  validation {
    condition     = var.az_count >= 1 && var.az_count <= 3 && floor(var.az_count) == var.az_count
    error_message = "The az_count must be a whole number from 1 to 3 (Azure regions have three availability zones)."
  }
}

variable "nat_gateway_mode" {
  description = "Egress for the private subnets: \"none\", \"single\" (one NAT gateway in zone 1, shared) or \"per_az\" (one zonal NAT gateway per zone, each serving its zone's subnet)."
  type        = string

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be one of \"none\", \"single\" or \"per_az\"."
  }
}

variable "flow_log_retention_days" {
  description = "Days (1-365) the VNet flow logs are kept in their storage account."
  type        = number
  default     = 365
  nullable    = false
}

variable "key_vault_id" {
  description = "Resource ID of the kms stack's Key Vault (kms stack output key_vault_id): the flow log account's identity is granted the logs key in it."
  type        = string
}

variable "flow_log_key_id" {
  description = "Versionless ID of the key encrypting the flow log storage account (kms stack output logs_key_id)."
  type        = string
}
