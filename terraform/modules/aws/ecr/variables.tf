variable "name_prefix" {
  description = "Namespace of the repositories, e.g. the environment name: each repository is <name_prefix>/<image>. Lowercase letters, digits and hyphens, 1-32 characters, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.name_prefix))
    error_message = "The name_prefix must be 1-32 characters of lowercase letters, digits and hyphens, and must start and end with a letter or digit."
  }
}

variable "repositories" {
  description = "Image names, one repository each (<name_prefix>/<image>), e.g. [\"controlplane-api\", \"controlplane-worker\"]: lowercase letters and digits, separated by single \".\", \"_\", \"-\" or \"/\"."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.repositories) >= 1 && length(distinct(var.repositories)) == length(var.repositories)
    error_message = "At least one repository must be given, each name once."
  }

  validation {
    condition     = alltrue([for r in var.repositories : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", r)) && length(r) <= 200])
    error_message = "Each repository name must be lowercase letters and digits separated by single \".\", \"_\", \"-\" or \"/\" (e.g. \"controlplane-api\"), at most 200 characters."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the images (its policy must let this account's principals use it through ECR). Fixed when a repository is created: changing it replaces the repositories."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN such as \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\" (not an alias)."
  }
}

variable "untagged_expiry_days" {
  description = "Days after its push that an untagged image (a superseded build, an interrupted push) expires: 1-3650."
  type        = number
  default     = 14
  nullable    = false

  validation {
    condition     = var.untagged_expiry_days >= 1 && var.untagged_expiry_days <= 3650 && floor(var.untagged_expiry_days) == var.untagged_expiry_days
    error_message = "The untagged_expiry_days must be a whole number from 1 to 3650."
  }
}

variable "keep_releases" {
  description = "How many release images (tags starting with one of release_tag_prefixes) each repository keeps: the newest this many; older ones expire. 1-10000."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.keep_releases >= 1 && var.keep_releases <= 10000 && floor(var.keep_releases) == var.keep_releases
    error_message = "The keep_releases must be a whole number from 1 to 10000."
  }
}

variable "release_tag_prefixes" {
  description = "Tag prefixes that mark a release image (e.g. \"v\" for v1.4.0). Images with other tags are never expired by the lifecycle policy."
  type        = list(string)
  default     = ["v"]
  nullable    = false

  validation {
    condition     = length(var.release_tag_prefixes) >= 1 && alltrue([for p in var.release_tag_prefixes : can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", p))])
    error_message = "At least one release tag prefix must be given, each the start of a Docker tag (letters, digits, \"_\", \".\", \"-\"; not starting with \".\" or \"-\")."
  }
}

variable "pull_account_ids" {
  description = "AWS accounts (12 digits) whose principals may pull from every repository, e.g. the next stage's account: the repository policy allows them ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability, nothing else; their own IAM decides which of their roles may. Empty: no repository policy (only this account's IAM decides)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.pull_account_ids : can(regex("^[0-9]{12}$", a))]) && length(distinct(var.pull_account_ids)) == length(var.pull_account_ids)
    error_message = "Each pull_account_ids entry must be a 12-digit AWS account ID (quote it in YAML), each once."
  }
}

variable "tags" {
  description = "Tags merged onto every repository, in addition to the provider's default_tags. The module sets Name itself (<name_prefix>/<image>)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and must not start with \"aws:\"; tag values must be at most 256 characters."
  }
}
