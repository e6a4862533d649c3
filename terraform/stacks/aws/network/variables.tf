# Values come from environments/<env>.yaml through infractl; nothing here is
# environment-specific.

variable "cidr" {
  description = "IPv4 CIDR block of the VPC, /16 to /24 (e.g. \"10.20.0.0/16\"). The network module validates it further and carves the subnets from it."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.cidr))
    error_message = "The cidr must be an IPv4 CIDR block such as \"10.20.0.0/16\"."
  }
}

variable "az_count" {
  description = "Number of availability zones to use (1-4); the first az_count zones of the region in name order."
  type        = number

  validation {
    condition     = var.az_count >= 1 && var.az_count <= 4 && floor(var.az_count) == var.az_count
    error_message = "The az_count must be a whole number from 1 to 4."
  }
}

variable "nat_gateway_mode" {
  description = "Egress for the private subnets: \"none\", \"single\" (one shared NAT gateway) or \"per_az\" (one per AZ)."
  type        = string

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be one of \"none\", \"single\" or \"per_az\"."
  }
}

variable "flow_log_retention_days" {
  description = "Retention in days of the VPC flow log group; one of CloudWatch Logs' allowed values (checked by the network module)."
  type        = number
  default     = 30
  nullable    = false
}

variable "flow_log_kms_key_arn" {
  description = "ARN of the customer-managed key (the kms stack's logs key) that encrypts the VPC flow log group."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.flow_log_kms_key_arn))
    error_message = "The flow_log_kms_key_arn must be a KMS key ARN (not an alias)."
  }
}
