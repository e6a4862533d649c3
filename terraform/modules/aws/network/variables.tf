variable "name" {
  description = "Name prefix for every resource (Name tags, IAM role, log group), e.g. the environment name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "cidr" {
  description = "IPv4 CIDR block of the VPC, a network address with a prefix length between /16 and /24 (e.g. \"10.20.0.0/16\"). Subnets are carved from it deterministically (see README)."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.cidr))
    error_message = "The cidr must be an IPv4 CIDR block such as \"10.20.0.0/16\"."
  }

  validation {
    condition     = try(cidrhost(var.cidr, 0) == split("/", var.cidr)[0], false)
    error_message = "The cidr must be a network address: no host bits may be set after the prefix (e.g. \"10.20.0.0/16\", not \"10.20.1.0/16\")."
  }

  validation {
    condition     = try(tonumber(split("/", var.cidr)[1]) >= 16 && tonumber(split("/", var.cidr)[1]) <= 24, false)
    error_message = "The cidr prefix length must be between /16 and /24 (AWS allows /16-/28 for a VPC; /24 is the smallest that still leaves /28 subnets for 3 tiers x 4 AZs)."
  }
}

variable "azs" {
  description = "Availability zone names to spread the subnets over, 1 to 4 unique entries (e.g. [\"eu-west-1a\", \"eu-west-1b\"]). The position in the list selects the subnet CIDRs: append new zones at the end."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.azs) >= 1 && length(var.azs) <= 4
    error_message = "Between 1 and 4 availability zones must be given."
  }

  validation {
    condition     = length(distinct(var.azs)) == length(var.azs)
    error_message = "The availability zones must be unique."
  }

  validation {
    condition     = alltrue([for az in var.azs : can(regex("^[a-z]{2}(-[a-z0-9]+)+[a-z]$", az))])
    error_message = "Each availability zone must be a zone name such as \"eu-west-1a\" (not a zone id such as \"euw1-az1\")."
  }
}

variable "nat_gateway_mode" {
  description = "Egress for the private subnets: \"none\" (no NAT gateway, no default route), \"single\" (one NAT gateway in the first AZ shared by all AZs) or \"per_az\" (one NAT gateway per AZ)."
  type        = string
  default     = "single"
  nullable    = false

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be one of \"none\", \"single\" or \"per_az\"."
  }
}

variable "flow_log_retention_days" {
  description = "Retention in days of the VPC flow log group; one of the values CloudWatch Logs accepts."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "The flow_log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "flow_log_kms_key_arn" {
  description = "ARN of a KMS key (key ARN, not an alias) that encrypts the flow log group. The key policy must allow the regional CloudWatch Logs principal (logs.REGION.amazonaws.com). null leaves the group encrypted with the CloudWatch Logs service key."
  type        = string
  default     = null

  validation {
    condition     = var.flow_log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.flow_log_kms_key_arn))
    error_message = "The flow_log_kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\" (aliases are not accepted by CloudWatch Logs)."
  }
}

variable "flow_log_traffic_type" {
  description = "Traffic captured by the VPC flow log: \"ACCEPT\", \"REJECT\" or \"ALL\"."
  type        = string
  default     = "ALL"
  nullable    = false

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_log_traffic_type)
    error_message = "The flow_log_traffic_type must be one of \"ACCEPT\", \"REJECT\" or \"ALL\"."
  }
}

variable "tags" {
  description = "Tags merged onto every resource, in addition to the provider's default_tags. The module sets Name (and tier on subnets and route tables) itself."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and must not start with \"aws:\"; tag values must be at most 256 characters."
  }
}
