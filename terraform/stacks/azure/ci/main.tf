locals {
  subscription_scope = "/subscriptions/${var.subscription_id}"

  # The environment's resource groups, as the other stacks name them. They
  # must exist before this stack is applied (it runs after them).
  managed_groups   = ["kms", "network", "cluster", "data"]
  read_only_groups = ["evidence", "evidence-dr", "ci"]

  managed_group_ids   = [for s in local.managed_groups : "${local.subscription_scope}/resourceGroups/${var.environment}-${s}"]
  read_only_group_ids = [for s in local.read_only_groups : "${local.subscription_scope}/resourceGroups/${var.environment}-${s}"]

  # Roles the stacks grant to their own managed identities (the only roles the
  # apply identity may assign): Key Vault Crypto Officer (deployer on the
  # vault), Key Vault Crypto Service Encryption User (storage and PostgreSQL
  # keys), Key Vault Crypto User and Key Vault Contributor (AKS KMS), Network
  # Contributor (AKS subnets).
  assignable_role_ids = [
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "12338af0-0e69-4776-bea7-57ae8d297424",
    "f25e0fa2-a7c8-4377-a976-54943a77a395",
    "4d97b98b-1d4f-4787-a291-c67834d212e7",
  ]
}

resource "azurerm_resource_group" "this" {
  name     = "${var.environment}-ci"
  location = var.region

  tags = var.tags
}

# GitHub Actions reaches this subscription only through OIDC federation: no
# application secrets, no certificates. Pull requests get the plan identity;
# jobs of the GitHub environment named like this environment (protected by
# required reviewers) get the apply identity.
module "ci_oidc" {
  source = "../../../modules/azure/ci-oidc"

  name                = var.environment
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  github_repository   = var.github_repository
  github_environment  = var.environment

  plan_scopes            = concat(local.managed_group_ids, local.read_only_group_ids)
  apply_scopes           = local.managed_group_ids
  apply_read_only_scopes = local.read_only_group_ids
  assignable_role_ids    = local.assignable_role_ids

  state_container_id    = var.state_container_id
  evidence_container_id = var.evidence_container_id
  budget_scope          = local.subscription_scope

  tags = merge(var.tags, { stack = "ci" })
}
