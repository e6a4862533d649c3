module "eks" {
  source = "../../../modules/aws/eks"

  name               = var.environment
  kubernetes_version = var.kubernetes_version
  vpc_id             = var.vpc_id
  vpc_cidr           = var.vpc_cidr
  subnet_ids         = var.subnet_ids

  secrets_kms_key_arn = var.secrets_kms_key_arn
  logs_kms_key_arn    = var.logs_kms_key_arn
  log_retention_days  = var.log_retention_days

  public_endpoint     = var.public_endpoint
  public_access_cidrs = var.public_access_cidrs

  system_node_group = var.system_node_group
  # A tier C tenant's tier carries its tenant's name (tenant tag); the others are shared.
  tenant_tiers = { for tier, group in var.tenant_tiers : tier => merge(group, { tenant = lookup(var.tier_tenants, tier, null) }) }

  # Environment, service, owner, cost-center and tenant = "shared" come from default_tags.
  tags = { stack = "cluster" }
}
