variable "name" {
  description = "Name prefix of every resource (VNet, subnets, NSGs, NAT gateways, network watcher), e.g. the environment name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "resource_group_name" {
  description = "Name of the existing resource group of every resource of the module."
  type        = string
}

variable "location" {
  description = "Azure region, e.g. \"westeurope\"."
  type        = string
}

variable "cidr" {
  description = "IPv4 address space of the VNet, a network address with a prefix length between /16 and /24 (e.g. \"10.20.0.0/16\"). Subnets are carved from it deterministically (see README)."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.cidr)) && try(cidrhost(var.cidr, 0) == split("/", var.cidr)[0], false)
    error_message = "The cidr must be an IPv4 network address in CIDR notation such as \"10.20.0.0/16\" (no host bits set)."
  }

  validation {
    condition     = try(tonumber(split("/", var.cidr)[1]) >= 16 && tonumber(split("/", var.cidr)[1]) <= 24, false)
    error_message = "The cidr prefix length must be between /16 and /24 (/24 is the smallest that still leaves the /28 subnets the API server and PostgreSQL need)."
  }
}

variable "zones" {
  description = "Availability zones (\"1\", \"2\", \"3\") the network serves, 1 to 3 unique entries in order: one private subnet per zone (its position selects its CIDR: append only), and with nat_gateway_mode \"per_az\" one zonal NAT gateway per zone."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.zones) >= 1 && length(var.zones) <= 3 && length(distinct(var.zones)) == length(var.zones) && alltrue([for z in var.zones : contains(["1", "2", "3"], z)])
    error_message = "The zones must be 1 to 3 unique entries among \"1\", \"2\" and \"3\" (Azure regions have three availability zones)."
  }
}

variable "nat_gateway_mode" {
  description = "Egress for the private subnets: \"none\" (no NAT gateway and no default outbound access: no internet egress), \"single\" (one NAT gateway in the first zone shared by every private subnet) or \"per_az\" (one zonal NAT gateway per zone, each serving the private subnet of its zone)."
  type        = string
  default     = "single"
  nullable    = false

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be one of \"none\", \"single\" or \"per_az\"."
  }
}

variable "flow_log_retention_days" {
  description = "Days (1-365) the VNet flow log records are kept in the flow log storage account."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = var.flow_log_retention_days >= 1 && var.flow_log_retention_days <= 365 && floor(var.flow_log_retention_days) == var.flow_log_retention_days
    error_message = "The flow_log_retention_days must be a whole number from 1 to 365 (the Network Watcher retention policy limit)."
  }
}

variable "flow_log_storage_account_name" {
  description = "Name of the storage account the module creates for the flow logs: 3-24 lowercase letters and digits, globally unique."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.flow_log_storage_account_name))
    error_message = "The flow_log_storage_account_name must be 3-24 lowercase letters and digits."
  }
}

variable "flow_log_key_id" {
  description = "Versionless Key Vault key ID (https://<vault>.vault.azure.net/keys/<name>) that encrypts the flow log storage account (customer-managed key)."
  type        = string

  validation {
    condition     = can(regex("^https://[a-zA-Z0-9-]{3,24}\\.vault\\.[a-z.]+/keys/[a-zA-Z0-9-]+$", var.flow_log_key_id))
    error_message = "The flow_log_key_id must be a versionless Key Vault key ID such as \"https://my-vault.vault.azure.net/keys/logs\"."
  }
}

variable "key_vault_id" {
  description = "Resource ID of the Key Vault holding flow_log_key_id: the flow log storage account's identity is granted Key Vault Crypto Service Encryption User on that key."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.KeyVault/vaults/[^/]+$", var.key_vault_id))
    error_message = "The key_vault_id must be a Key Vault resource ID (/subscriptions/.../providers/Microsoft.KeyVault/vaults/<name>)."
  }
}

variable "tags" {
  description = "Tags on every taggable resource."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "pod_cidr" {
  description = "Pod address space of the AKS CNI overlay (the aks module's network_profile.pod_cidr); the private subnets' NSG admits it. Must not overlap cidr."
  type        = string
  default     = "192.168.0.0/16"
  nullable    = false

  validation {
    condition     = can(cidrnetmask(var.pod_cidr))
    error_message = "The pod_cidr must be an IPv4 CIDR block such as \"192.168.0.0/16\"."
  }
}
