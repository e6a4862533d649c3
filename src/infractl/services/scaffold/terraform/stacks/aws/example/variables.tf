variable "environment" {
  type        = string
  description = "Environment name (environments/<name>.yaml)."
}

variable "account_id" {
  type        = string
  description = "The AWS account the environment lives in."
}

variable "region" {
  type        = string
  description = "The environment's AWS region."
}

variable "tags" {
  type        = map(string)
  description = "Tags every resource carries (default_tags)."
  nullable    = false
}
