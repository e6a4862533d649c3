variable "name" {
  description = "Name of the EKS cluster and prefix of every other resource name (IAM roles, log group, node groups, launch templates), e.g. the environment name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and of every node group, as \"MAJOR.MINOR\" (e.g. \"1.31\"). Raising it upgrades the control plane, then the node groups."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "The kubernetes_version must be a Kubernetes minor version such as \"1.31\" (no patch level, no \"v\" prefix)."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the cluster lives in (e.g. \"vpc-0123456789abcdef0\")."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "The vpc_id must be a VPC ID such as \"vpc-0123456789abcdef0\"."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC (e.g. \"10.10.0.0/16\"): it may reach the private API endpoint on 443. An input, not a lookup, so the module plans before the VPC exists."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && !strcontains(var.vpc_cidr, ":")
    error_message = "The vpc_cidr must be an IPv4 CIDR block such as \"10.10.0.0/16\"."
  }
}

variable "subnet_ids" {
  description = "IDs of the private subnets for the control plane ENIs and the nodes; at least two, in different availability zones (EKS requires two AZs)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "At least two subnet IDs (in different availability zones) must be given."
  }

  validation {
    condition     = length(distinct(var.subnet_ids)) == length(var.subnet_ids)
    error_message = "The subnet_ids must be unique."
  }

  validation {
    condition     = alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "Each subnet ID must look like \"subnet-0123456789abcdef0\"."
  }
}

variable "secrets_kms_key_arn" {
  description = "ARN of the customer-managed KMS key (key ARN, not an alias) that envelope-encrypts Kubernetes secrets. Cannot be changed once the cluster exists."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.secrets_kms_key_arn))
    error_message = "The secrets_kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\" (aliases are not accepted)."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the customer-managed KMS key (key ARN, not an alias) that encrypts the control plane log group. The key policy must allow the regional CloudWatch Logs principal (logs.REGION.amazonaws.com)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.logs_kms_key_arn))
    error_message = "The logs_kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\" (aliases are not accepted by CloudWatch Logs)."
  }
}

variable "log_retention_days" {
  description = "Retention in days of the control plane log group; one of the values CloudWatch Logs accepts."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "public_endpoint" {
  description = "Whether the Kubernetes API endpoint is also reachable from the internet (restricted to public_access_cidrs). The private endpoint is always on."
  type        = bool
  default     = false
  nullable    = false
}

variable "public_access_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the public API endpoint. Required (non-empty, without 0.0.0.0/0) when public_endpoint is true; ignored otherwise."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrnetmask(c)) && try(cidrhost(c, 0) == split("/", c)[0], false)])
    error_message = "Each public_access_cidrs entry must be an IPv4 network address in CIDR notation such as \"203.0.113.0/24\"."
  }
}

variable "system_node_group" {
  description = "The system node pool (tainted CriticalAddonsOnly, for the platform add-ons): instance types (all x86_64 or all arm64), node counts (min_size <= desired_size <= max_size, min_size >= 1) and root volume size in GiB (>= 20)."
  type = object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_gib       = number
  })
  nullable = false

  validation {
    condition     = length(var.system_node_group.instance_types) >= 1 && alltrue([for t in var.system_node_group.instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])
    error_message = "The system_node_group.instance_types must list at least one EC2 instance type such as \"m6i.large\"."
  }

  validation {
    condition     = length(distinct([for t in var.system_node_group.instance_types : can(regex("^[a-z]+[0-9]+g", t))])) <= 1
    error_message = "The system_node_group.instance_types must share one CPU architecture: all x86_64 or all arm64 (Graviton)."
  }

  validation {
    condition = alltrue([for n in [var.system_node_group.min_size, var.system_node_group.max_size, var.system_node_group.desired_size] : floor(n) == n]) && (
      var.system_node_group.min_size >= 1 &&
      var.system_node_group.min_size <= var.system_node_group.desired_size &&
      var.system_node_group.desired_size <= var.system_node_group.max_size
    )
    error_message = "The system_node_group sizes must be whole numbers with 1 <= min_size <= desired_size <= max_size (the add-ons run only on this pool)."
  }

  validation {
    condition     = var.system_node_group.disk_gib >= 20 && var.system_node_group.disk_gib <= 16384 && floor(var.system_node_group.disk_gib) == var.system_node_group.disk_gib
    error_message = "The system_node_group.disk_gib must be a whole number of GiB from 20 to 16384."
  }
}

variable "tenant_tiers" {
  description = "Tenant node pools keyed by tier name (lowercase, [a-z][a-z0-9-]*, at most 20 characters, not \"system\"), one managed node group each, tainted tenant-tier=<tier>:NoSchedule. Same object as system_node_group, except that min_size may be 0, plus an optional tenant: the tier C tenant the pool belongs to, tagged tenant = <tenant> on its node group, launch template and nodes (null: a shared tier, tagged by the provider's default_tags)."
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
    error_message = "The tier name \"system\" is reserved for the system node group."
  }

  validation {
    condition = alltrue([
      for t in values(var.tenant_tiers) : length(t.instance_types) >= 1 && alltrue([for it in t.instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", it))])
    ])
    error_message = "Every tier must list at least one EC2 instance type such as \"m6i.large\"."
  }

  validation {
    condition     = alltrue([for t in values(var.tenant_tiers) : length(distinct([for it in t.instance_types : can(regex("^[a-z]+[0-9]+g", it))])) <= 1])
    error_message = "The instance types of a tier must share one CPU architecture: all x86_64 or all arm64 (Graviton)."
  }

  validation {
    condition = alltrue([
      for t in values(var.tenant_tiers) :
      alltrue([for n in [t.min_size, t.max_size, t.desired_size] : floor(n) == n]) && t.min_size >= 0 && t.max_size >= 1 && t.min_size <= t.desired_size && t.desired_size <= t.max_size
    ])
    error_message = "Every tier's sizes must be whole numbers with 0 <= min_size <= desired_size <= max_size and max_size >= 1."
  }

  validation {
    condition     = alltrue([for t in values(var.tenant_tiers) : t.disk_gib >= 20 && t.disk_gib <= 16384 && floor(t.disk_gib) == t.disk_gib])
    error_message = "Every tier's disk_gib must be a whole number of GiB from 20 to 16384."
  }

  validation {
    condition     = alltrue([for t in values(var.tenant_tiers) : t.tenant == null || can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", t.tenant))])
    error_message = "A tier's tenant must be a tenant name: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Tags merged onto every resource (and, through the launch templates, onto the nodes' instances, volumes and network interfaces), in addition to the provider's default_tags. The module sets Name itself."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and must not start with \"aws:\"; tag values must be at most 256 characters."
  }
}
