variable "name" {
  description = "Name prefix of every resource (network, subnet, router, NAT, firewall rules, log bucket), e.g. the environment name. Lowercase letters, digits and hyphens, 1-20 characters, starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-20 characters of lowercase letters, digits and hyphens, start with a letter and end with a letter or digit."
  }
}

variable "project_id" {
  description = "ID of the project holding the network (used in the flow log filter)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a GCP project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)."
  }
}

variable "region" {
  description = "Region of the subnet, the Cloud Router and Cloud NAT, and the flow log bucket, e.g. \"europe-west1\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.region))
    error_message = "The region must be a GCP region such as \"europe-west1\"."
  }
}

variable "cidr" {
  description = "IPv4 address space of the network, a network address from /16 to /18 (e.g. \"10.20.0.0/16\"). Every range is carved from it (see README): nodes 1/16, services 1/16, private services access 1/16, pods 1/2."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.cidr)) && !strcontains(var.cidr, ":")
    error_message = "The cidr must be an IPv4 CIDR block such as \"10.20.0.0/16\"."
  }

  validation {
    condition     = try(cidrhost(var.cidr, 0) == split("/", var.cidr)[0], false)
    error_message = "The cidr must be a network address: no host bits may be set after the prefix (e.g. \"10.20.0.0/16\", not \"10.20.1.0/16\")."
  }

  validation {
    condition     = try(tonumber(split("/", var.cidr)[1]) >= 16 && tonumber(split("/", var.cidr)[1]) <= 18, false)
    error_message = "The cidr prefix length must be between /16 and /18: the pod range is half of it, and a /19 of pods (32 nodes at 110 pods each) is the smallest the cluster stack is sized for."
  }
}

variable "nat_gateway_mode" {
  description = "Egress for the private subnet: \"none\" (no Cloud Router, no Cloud NAT), \"single\" or \"per_az\". Cloud NAT is a regional, zone-redundant managed service, so \"single\" and \"per_az\" both create one Cloud NAT on one Cloud Router."
  type        = string
  default     = "single"
  nullable    = false

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be one of \"none\", \"single\" or \"per_az\"."
  }
}

variable "flow_log_retention_days" {
  description = "Days the subnet's VPC flow logs are kept in their log bucket (1-3650)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.flow_log_retention_days >= 1 && var.flow_log_retention_days <= 3650 && floor(var.flow_log_retention_days) == var.flow_log_retention_days
    error_message = "The flow_log_retention_days must be a whole number from 1 to 3650 (Cloud Logging log bucket limits)."
  }
}

variable "flow_log_kms_key_id" {
  description = "Crypto key ID (the kms stack's logs key) encrypting the flow log bucket; in the network's region, usable by the project's Cloud Logging service account."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.flow_log_kms_key_id))
    error_message = "The flow_log_kms_key_id must be a crypto key ID such as \"projects/p/locations/europe-west1/keyRings/prod/cryptoKeys/logs\"."
  }
}

variable "flow_log_sampling" {
  description = "Share of the sampled flows VPC Flow Logs reports (0 to 1). GCP samples packets before this setting applies; 1 reports all of them."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.flow_log_sampling > 0 && var.flow_log_sampling <= 1
    error_message = "The flow_log_sampling must be greater than 0 and at most 1."
  }
}

variable "flow_log_aggregation_interval" {
  description = "How long flows are aggregated into one record: \"INTERVAL_5_SEC\", \"INTERVAL_30_SEC\", \"INTERVAL_1_MIN\", \"INTERVAL_5_MIN\", \"INTERVAL_10_MIN\" or \"INTERVAL_15_MIN\"."
  type        = string
  default     = "INTERVAL_5_SEC"
  nullable    = false

  validation {
    condition     = contains(["INTERVAL_5_SEC", "INTERVAL_30_SEC", "INTERVAL_1_MIN", "INTERVAL_5_MIN", "INTERVAL_10_MIN", "INTERVAL_15_MIN"], var.flow_log_aggregation_interval)
    error_message = "The flow_log_aggregation_interval must be one of INTERVAL_5_SEC, INTERVAL_30_SEC, INTERVAL_1_MIN, INTERVAL_5_MIN, INTERVAL_10_MIN or INTERVAL_15_MIN."
  }
}
