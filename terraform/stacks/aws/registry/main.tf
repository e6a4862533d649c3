# The environment's container repositories: <environment>/<image>, one per
# image the release builds. Releases are copied into them by digest
# (infractl promote), never rebuilt; the next stage's account pulls from here.
module "ecr" {
  source = "../../../modules/aws/ecr"

  name_prefix          = var.environment
  repositories         = var.repositories
  kms_key_arn          = var.kms_key_arn
  untagged_expiry_days = var.untagged_expiry_days
  keep_releases        = var.keep_releases
  release_tag_prefixes = var.release_tag_prefixes
  pull_account_ids     = var.pull_account_ids

  # Environment, service, owner and cost-center come from default_tags.
  tags = { stack = "registry" }
}
