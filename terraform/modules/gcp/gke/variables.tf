variable "name" {
  description = "Name of the cluster and prefix of its node service account and log bucket, e.g. the environment name. Lowercase letters, digits and hyphens, 1-20 characters, starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-20 characters of lowercase letters, digits and hyphens, start with a letter and end with a letter or digit."
  }
}

variable "project_id" {
  description = "ID of the project holding the cluster: it names the Workload Identity pool (<project_id>.svc.id.goog) and the GKE service agent."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a GCP project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)."
  }
}

variable "region" {
  description = "Region of the regional cluster: the control plane is replicated across the region's zones."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.region))
    error_message = "The region must be a GCP region such as \"europe-west1\"."
  }
}

variable "zones" {
  description = "Zones of the region the node pools spread over (node_locations), e.g. [\"europe-west1-b\", \"europe-west1-c\", \"europe-west1-d\"]; every pool gets nodes in each."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.zones) >= 1 && length(distinct(var.zones)) == length(var.zones)
    error_message = "At least one zone must be given, without duplicates."
  }

  validation {
    condition     = alltrue([for z in var.zones : can(regex("^${var.region}-[a-z]$", z))])
    error_message = "Every zone must be a zone of the cluster's region, such as \"${var.region}-b\"."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, e.g. \"1.31\": the control plane's minimum version (min_master_version). GKE upgrades within the release channel; node pools follow the control plane."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "The kubernetes_version must be a minor version such as \"1.31\"."
  }
}

variable "release_channel" {
  description = "GKE release channel: \"RAPID\", \"REGULAR\" or \"STABLE\"."
  type        = string
  default     = "REGULAR"
  nullable    = false

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE"], var.release_channel)
    error_message = "The release_channel must be \"RAPID\", \"REGULAR\" or \"STABLE\"."
  }
}

variable "network_id" {
  description = "ID of the VPC network (projects/<project>/global/networks/<name>)."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/global/networks/[^/]+$", var.network_id))
    error_message = "The network_id must look like \"projects/<project>/global/networks/<name>\"."
  }
}

variable "network_cidr" {
  description = "IPv4 address space of the network: an authorized network of the control plane, so anything in the VPC (nodes, bastions, CI runners) reaches the private endpoint."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.network_cidr)) && !strcontains(var.network_cidr, ":")
    error_message = "The network_cidr must be an IPv4 CIDR block such as \"10.20.0.0/16\"."
  }
}

variable "subnet_id" {
  description = "ID of the private subnet of the nodes (projects/<project>/regions/<region>/subnetworks/<name>), with the pods and services secondary ranges."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/regions/[^/]+/subnetworks/[^/]+$", var.subnet_id))
    error_message = "The subnet_id must look like \"projects/<project>/regions/<region>/subnetworks/<name>\"."
  }
}

variable "pods_range_name" {
  description = "Name of the subnet's secondary range for pods."
  type        = string
  nullable    = false
}

variable "services_range_name" {
  description = "Name of the subnet's secondary range for services."
  type        = string
  nullable    = false
}

variable "public_endpoint" {
  description = "Whether the control plane also has a public endpoint, reachable only from public_access_cidrs. The private endpoint is always on."
  type        = bool
  default     = false
  nullable    = false
}

variable "public_access_cidrs" {
  description = "IPv4 CIDR blocks (authorized networks) allowed to reach the public endpoint; required (non-empty, without 0.0.0.0/0) when public_endpoint is true, empty otherwise."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrnetmask(c)) && !strcontains(c, ":") && try(cidrhost(c, 0) == split("/", c)[0], false)])
    error_message = "Every public_access_cidrs entry must be an IPv4 network address in CIDR form, such as \"203.0.113.0/24\"."
  }

  validation {
    condition     = var.public_endpoint ? (length(var.public_access_cidrs) >= 1 && !contains(var.public_access_cidrs, "0.0.0.0/0")) : length(var.public_access_cidrs) == 0
    error_message = "With public_endpoint, public_access_cidrs must list at least one CIDR block and not 0.0.0.0/0; without it, it must be empty (the private endpoint admits the network only)."
  }
}

variable "secrets_kms_key_id" {
  description = "Crypto key ID encrypting Kubernetes secrets at the application layer (database_encryption), in the cluster's region. The module grants the GKE service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on it."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.secrets_kms_key_id))
    error_message = "The secrets_kms_key_id must be a crypto key ID such as \"projects/p/locations/europe-west1/keyRings/prod/cryptoKeys/cluster\"."
  }
}

variable "logs_kms_key_id" {
  description = "Crypto key ID encrypting the control-plane log bucket, usable by the project's Cloud Logging service account (the kms stack grants it)."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.logs_kms_key_id))
    error_message = "The logs_kms_key_id must be a crypto key ID such as \"projects/p/locations/europe-west1/keyRings/prod/cryptoKeys/logs\"."
  }
}

variable "log_retention_days" {
  description = "Days the control-plane logs (API server, scheduler, controller manager, audit) are kept in their log bucket (1-3650)."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 3650 && floor(var.log_retention_days) == var.log_retention_days
    error_message = "The log_retention_days must be a whole number from 1 to 3650 (Cloud Logging log bucket limits)."
  }
}

variable "system_node_pool" {
  description = "System node pool (platform add-ons, tainted CriticalAddonsOnly=true:NoSchedule): machine types (the first is used: a GKE node pool has one), min/max/desired node counts over all zones, boot disk size in GiB."
  type = object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_gib       = number
  })
  nullable = false

  validation {
    condition     = length(var.system_node_pool.instance_types) >= 1 && alltrue([for t in var.system_node_pool.instance_types : can(regex("^[a-z][a-z0-9]*-[a-z0-9-]+$", t))])
    error_message = "The system_node_pool.instance_types must list at least one Compute Engine machine type such as \"e2-standard-4\"."
  }

  validation {
    condition = alltrue([for n in [var.system_node_pool.min_size, var.system_node_pool.max_size, var.system_node_pool.desired_size] : floor(n) == n]) && (
      var.system_node_pool.min_size >= 1 &&
      var.system_node_pool.min_size <= var.system_node_pool.desired_size &&
      var.system_node_pool.desired_size <= var.system_node_pool.max_size
    )
    error_message = "The system_node_pool sizes must be whole numbers with 1 <= min_size <= desired_size <= max_size (the add-ons run only on this pool)."
  }

  validation {
    condition     = var.system_node_pool.disk_gib >= 20 && var.system_node_pool.disk_gib <= 65536 && floor(var.system_node_pool.disk_gib) == var.system_node_pool.disk_gib
    error_message = "The system_node_pool.disk_gib must be a whole number of GiB from 20 to 65536."
  }
}

variable "tenant_tiers" {
  description = "Tenant node pools keyed by tier name (lowercase, [a-z][a-z0-9-]*, at most 20 characters, not \"system\"), each tainted tenant-tier=<tier>:NoSchedule and labelled node.infractl.io/tier=<tier>. Same object as system_node_pool, except that min_size may be 0, plus an optional tenant: the tier C tenant the pool belongs to, labelled tenant = <tenant> on its nodes' instances (null: a shared tier, labelled by the provider's default_labels)."
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
    condition     = alltrue([for tier in keys(var.tenant_tiers) : can(regex("^[a-z][a-z0-9-]{0,19}$", tier)) && !endswith(tier, "-")])
    error_message = "Tier names must start with a lowercase letter, contain only lowercase letters, digits and hyphens, not end with a hyphen, and be at most 20 characters."
  }

  validation {
    condition     = !contains(keys(var.tenant_tiers), "system")
    error_message = "The tier name \"system\" is reserved for the system node pool."
  }

  validation {
    condition = alltrue([
      for t in values(var.tenant_tiers) : length(t.instance_types) >= 1 && alltrue([for it in t.instance_types : can(regex("^[a-z][a-z0-9]*-[a-z0-9-]+$", it))])
    ])
    error_message = "Every tier must list at least one Compute Engine machine type such as \"n2-standard-8\"."
  }

  validation {
    condition = alltrue([
      for t in values(var.tenant_tiers) :
      alltrue([for n in [t.min_size, t.max_size, t.desired_size] : floor(n) == n]) && t.min_size >= 0 && t.max_size >= 1 && t.min_size <= t.desired_size && t.desired_size <= t.max_size
    ])
    error_message = "Every tier's sizes must be whole numbers with 0 <= min_size <= desired_size <= max_size and max_size >= 1."
  }

  validation {
    condition     = alltrue([for t in values(var.tenant_tiers) : t.disk_gib >= 20 && t.disk_gib <= 65536 && floor(t.disk_gib) == t.disk_gib])
    error_message = "Every tier's disk_gib must be a whole number of GiB from 20 to 65536."
  }

  validation {
    condition     = alltrue([for t in values(var.tenant_tiers) : t.tenant == null || can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", t.tenant))])
    error_message = "A tier's tenant must be a tenant name: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "deletion_protection" {
  description = "Refuse to destroy the cluster (the provider's deletion_protection). Turn it off, apply, then destroy."
  type        = bool
  default     = true
  nullable    = false
}

variable "labels" {
  description = "Labels of the environment (the stack passes its converted tags) merged onto the cluster and the nodes' instances (node_config.resource_labels, which the provider's default_labels does not reach)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys must be 1-63 characters of lowercase letters, digits, \"_\" and \"-\" starting with a letter; values at most 63 of the same characters."
  }
}
