variable "name" {
  description = "Name of the AKS cluster, its DNS prefix and prefix of every other resource name (identity, workspace). Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "resource_group_name" {
  description = "Name of the existing resource group of the cluster, its identity and its log workspace (AKS creates the node resource group MC_<group>_<name>_<region> itself)."
  type        = string
}

variable "location" {
  description = "Azure region, e.g. \"westeurope\"."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and every node pool, as \"MAJOR.MINOR\" (e.g. \"1.31\"); AKS picks the latest patch and the patch channel keeps it current."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "The kubernetes_version must be a Kubernetes minor version such as \"1.31\" (no patch level, no \"v\" prefix)."
  }
}

variable "sku_tier" {
  description = "AKS pricing tier: \"Standard\" (financially backed API server SLA, the default) or \"Premium\" (long-term support); \"Free\" has no SLA."
  type        = string
  default     = "Standard"
  nullable    = false

  validation {
    condition     = contains(["Free", "Standard", "Premium"], var.sku_tier)
    error_message = "The sku_tier must be \"Free\", \"Standard\" or \"Premium\"."
  }
}

variable "zones" {
  description = "Availability zones the node pools spread over (\"1\", \"2\", \"3\")."
  type        = list(string)
  default     = ["1", "2", "3"]
  nullable    = false

  validation {
    condition     = length(var.zones) >= 1 && alltrue([for z in var.zones : contains(["1", "2", "3"], z)])
    error_message = "The zones must be 1 to 3 entries among \"1\", \"2\" and \"3\"."
  }
}

variable "node_subnet_id" {
  description = "ID of the subnet of every node pool (a private subnet of the network; with outbound_type userAssignedNATGateway it must have a NAT gateway). The cluster identity is granted Network Contributor on it."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Network/virtualNetworks/[^/]+/subnets/[^/]+$", var.node_subnet_id))
    error_message = "The node_subnet_id must be a subnet resource ID."
  }
}

variable "apiserver_subnet_id" {
  description = "ID of the subnet delegated to Microsoft.ContainerService/managedClusters for API Server VNet Integration (at least /28). The cluster identity is granted Network Contributor on it."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Network/virtualNetworks/[^/]+/subnets/[^/]+$", var.apiserver_subnet_id))
    error_message = "The apiserver_subnet_id must be a subnet resource ID."
  }
}

variable "outbound_type" {
  description = "Egress of the nodes: \"userAssignedNATGateway\" (the node subnet's NAT gateway) or \"none\" (no egress path set up by AKS; images must come from a registry reachable privately)."
  type        = string
  default     = "userAssignedNATGateway"
  nullable    = false

  validation {
    condition     = contains(["userAssignedNATGateway", "none"], var.outbound_type)
    error_message = "The outbound_type must be \"userAssignedNATGateway\" or \"none\"."
  }
}

variable "public_endpoint" {
  description = "Whether the API server is also reachable from the internet, from public_access_cidrs only. The private endpoint (API Server VNet Integration) is always on; false makes a private cluster."
  type        = bool
  default     = false
  nullable    = false
}

variable "public_access_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the public API endpoint (AKS authorized IP ranges). Required (non-empty, without 0.0.0.0/0) when public_endpoint is true; ignored otherwise."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrnetmask(c)) && try(cidrhost(c, 0) == split("/", c)[0], false) && !startswith(c, "0.0.0.0/")])
    error_message = "Each public_access_cidrs entry must be an IPv4 network address in CIDR notation such as \"203.0.113.0/24\", and not 0.0.0.0/0."
  }
}

variable "secrets_key_vault_key_id" {
  description = "Versioned Key Vault key ID (https://<vault>.vault.azure.net/keys/<name>/<version>) for KMS envelope encryption of Kubernetes secrets: AKS KMS pins a key version. A new version after rotation is rolled out by changing this value."
  type        = string

  validation {
    condition     = can(regex("^https://[a-zA-Z0-9-]{3,24}\\.vault\\.[a-z.]+/keys/[a-zA-Z0-9-]+/[0-9a-fA-F]{32}$", var.secrets_key_vault_key_id))
    error_message = "The secrets_key_vault_key_id must be a versioned Key Vault key ID such as \"https://my-vault.vault.azure.net/keys/cluster/0123456789abcdef0123456789abcdef\"."
  }
}

variable "key_vault_id" {
  description = "Resource ID of the Key Vault holding secrets_key_vault_key_id. The cluster identity is granted Key Vault Crypto User on the key and Key Vault Contributor on the vault (AKS creates a private link to it: KMS key_vault_network_access = Private)."
  type        = string

  validation {
    condition     = can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.KeyVault/vaults/[^/]+$", var.key_vault_id))
    error_message = "The key_vault_id must be a Key Vault resource ID."
  }
}

variable "log_retention_days" {
  description = "Retention in days (30-730) of the Log Analytics workspace receiving the control-plane logs (API server, audit, controller manager, scheduler, autoscaler, Entra guard)."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730 && floor(var.log_retention_days) == var.log_retention_days
    error_message = "The log_retention_days must be a whole number from 30 to 730 (the Log Analytics interactive retention range)."
  }
}

variable "admin_group_object_ids" {
  description = "Entra group object IDs that get cluster-admin through AKS-managed Entra integration. With Azure RBAC on, Azure role assignments (e.g. Azure Kubernetes Service RBAC Cluster Admin) grant access too."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "system_node_group" {
  description = "The system node pool (only_critical_addons_enabled: tainted CriticalAddonsOnly, for the platform add-ons): VM sizes (the first is used: an AKS pool has one size), node counts (1 <= min_size <= desired_size <= max_size) and OS disk size in GiB (30-2048)."
  type = object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_gib       = number
  })
  nullable = false

  validation {
    condition     = length(var.system_node_group.instance_types) >= 1 && alltrue([for t in var.system_node_group.instance_types : can(regex("^Standard_[A-Za-z0-9_]+$", t))])
    error_message = "The system_node_group.instance_types must list at least one Azure VM size such as \"Standard_D4ds_v5\"."
  }

  validation {
    condition = alltrue([for n in [var.system_node_group.min_size, var.system_node_group.max_size, var.system_node_group.desired_size] : floor(n) == n]) && (
      var.system_node_group.min_size >= 1 &&
      var.system_node_group.min_size <= var.system_node_group.desired_size &&
      var.system_node_group.desired_size <= var.system_node_group.max_size &&
      var.system_node_group.max_size <= 1000
    )
    error_message = "The system_node_group sizes must be whole numbers with 1 <= min_size <= desired_size <= max_size <= 1000."
  }

  validation {
    condition     = var.system_node_group.disk_gib >= 30 && var.system_node_group.disk_gib <= 2048 && floor(var.system_node_group.disk_gib) == var.system_node_group.disk_gib
    error_message = "The system_node_group.disk_gib must be a whole number of GiB from 30 to 2048."
  }
}

variable "tenant_tiers" {
  description = "Tenant node pools keyed by tier name (the pool name: lowercase letters and digits, starting with a letter, at most 12 characters, not \"system\"), one user node pool each, tainted tenant-tier=<tier>:NoSchedule and labelled tenant-tier=<tier>. Same object as system_node_group, except that min_size may be 0, plus an optional tenant: the tier C tenant the pool belongs to, tagged tenant = <tenant> on its node pool (null: a shared tier, tagged tenant as var.tags says)."
  type = map(object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_gib       = number
    tenant         = optional(string)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for tier in keys(var.tenant_tiers) : can(regex("^[a-z][a-z0-9]{0,11}$", tier)) && tier != "system"])
    error_message = "Tier names must be 1-12 lowercase letters and digits starting with a letter (AKS node pool names), and not \"system\"."
  }

  validation {
    condition = alltrue([
      for t in values(var.tenant_tiers) : length(t.instance_types) >= 1 && alltrue([for it in t.instance_types : can(regex("^Standard_[A-Za-z0-9_]+$", it))])
    ])
    error_message = "Every tier must list at least one Azure VM size such as \"Standard_D8ds_v5\"."
  }

  validation {
    condition = alltrue([
      for t in values(var.tenant_tiers) :
      alltrue([for n in [t.min_size, t.max_size, t.desired_size] : floor(n) == n]) && t.min_size >= 0 && t.max_size >= 1 && t.min_size <= t.desired_size && t.desired_size <= t.max_size && t.max_size <= 1000
    ])
    error_message = "Every tier's sizes must be whole numbers with 0 <= min_size <= desired_size <= max_size, 1 <= max_size <= 1000."
  }

  validation {
    condition     = alltrue([for t in values(var.tenant_tiers) : t.disk_gib >= 30 && t.disk_gib <= 2048 && floor(t.disk_gib) == t.disk_gib])
    error_message = "Every tier's disk_gib must be a whole number of GiB from 30 to 2048."
  }

  validation {
    condition     = alltrue([for t in values(var.tenant_tiers) : t.tenant == null || can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", t.tenant))])
    error_message = "A tier's tenant must be a tenant name: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Tags on every taggable resource (cluster, node pools, identity, workspace)."
  type        = map(string)
  default     = {}
  nullable    = false
}
