# Values come from environments/<env>.yaml and the network and kms stacks
# through infractl; nothing here is environment-specific. The eks module
# validates every value further.

variable "environment" {
  description = "Environment name (e.g. \"dev\"); the cluster name and the prefix of every resource name. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.environment))
    error_message = "The environment must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "account_id" {
  description = "AWS account ID the stack may touch (the provider refuses any other account)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be exactly 12 digits."
  }
}

variable "region" {
  description = "AWS region of the stack, e.g. \"eu-west-1\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region name such as \"eu-west-1\" or \"us-gov-west-1\"."
  }
}

variable "tags" {
  description = "Tags applied to every resource through the provider's default_tags (and copied onto the nodes' instances, volumes and ENIs). Must contain environment (equal to var.environment), service, owner and cost-center, all non-empty."
  type        = map(string)
  nullable    = false

  validation {
    condition     = alltrue([for k in ["environment", "service", "owner", "cost-center"] : trimspace(lookup(var.tags, k, "")) != ""])
    error_message = "The tags must contain non-empty values for the keys environment, service, owner and cost-center."
  }

  validation {
    condition     = lookup(var.tags, "environment", var.environment) == var.environment
    error_message = "The environment tag must equal var.environment."
  }
}

variable "vpc_id" {
  description = "ID of the VPC (network stack output vpc_id)."
  type        = string
}

variable "subnet_ids" {
  description = "IDs of the private subnets for the control plane and the nodes, at least two in different AZs (network stack output private_subnet_ids)."
  type        = list(string)
  nullable    = false
}

variable "secrets_kms_key_arn" {
  description = "ARN of the CMK that encrypts Kubernetes secrets (kms stack output cluster_key_arn)."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "ARN of the CMK that encrypts the control plane log group (kms stack output logs_key_arn)."
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
