locals {
  # Role Based Access Control Administrator may only write or delete
  # assignments of the listed roles (Azure ABAC condition, documented form).
  role_guids = join(", ", var.assignable_role_ids)
  rbac_admin_condition = trimspace(<<-EOT
    (
     (
      !(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})
     )
     OR
     (
      @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${local.role_guids}}
     )
    )
    AND
    (
     (
      !(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})
     )
     OR
     (
      @Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${local.role_guids}}
     )
    )
  EOT
  )

  plan_roles = {
    for pair in setproduct(var.plan_scopes, ["Reader", "Key Vault Reader"]) : "${pair[1]} ${pair[0]}" => { scope = pair[0], role = pair[1] }
  }
  apply_roles = {
    for pair in setproduct(var.apply_scopes, ["Contributor", "Key Vault Crypto Officer"]) : "${pair[1]} ${pair[0]}" => { scope = pair[0], role = pair[1] }
  }
}

################################################################################
# Identities and their federated credentials (no secrets)
################################################################################

resource "azurerm_user_assigned_identity" "plan" {
  name                = "${var.name}-github-plan"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

resource "azurerm_user_assigned_identity" "apply" {
  name                = "${var.name}-github-apply"
  location            = var.location
  resource_group_name = var.resource_group_name

  tags = var.tags
}

# GitHub's OIDC tokens, audience api://AzureADTokenExchange (what Entra ID
# expects), exact subjects (no wildcards): pull requests of the repository
# for plan, jobs of its protected environment for apply.
resource "azurerm_federated_identity_credential" "plan" {
  name                = "github-pull-request"
  resource_group_name = var.resource_group_name
  parent_id           = azurerm_user_assigned_identity.plan.id
  issuer              = "https://token.actions.githubusercontent.com"
  audience            = ["api://AzureADTokenExchange"]
  subject             = "repo:${var.github_repository}:pull_request"
}

resource "azurerm_federated_identity_credential" "apply" {
  name                = "github-environment-${var.github_environment}"
  resource_group_name = var.resource_group_name
  parent_id           = azurerm_user_assigned_identity.apply.id
  issuer              = "https://token.actions.githubusercontent.com"
  audience            = ["api://AzureADTokenExchange"]
  subject             = "repo:${var.github_repository}:environment:${var.github_environment}"
}

################################################################################
# Plan: read the environment, use the state
################################################################################

resource "azurerm_role_assignment" "plan" {
  for_each = local.plan_roles

  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = azurerm_user_assigned_identity.plan.principal_id
  principal_type       = "ServicePrincipal"
  description          = "GitHub pull requests of ${var.github_repository}: terraform plan."
}

resource "azurerm_role_assignment" "plan_state" {
  scope                = var.state_container_id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.plan.principal_id
  principal_type       = "ServicePrincipal"
  description          = "terraform plan reads the state and takes its lease (lock)."
}

################################################################################
# Apply: manage the environment's resource groups, nothing else
################################################################################

resource "azurerm_role_assignment" "apply" {
  for_each = local.apply_roles

  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = azurerm_user_assigned_identity.apply.principal_id
  principal_type       = "ServicePrincipal"
  description          = "GitHub environment ${var.github_environment} of ${var.github_repository}: terraform apply."
}

resource "azurerm_role_assignment" "apply_role_assignments" {
  for_each = length(var.assignable_role_ids) > 0 ? toset(var.apply_scopes) : toset([])

  scope                = each.value
  role_definition_name = "Role Based Access Control Administrator"
  principal_id         = azurerm_user_assigned_identity.apply.principal_id
  principal_type       = "ServicePrincipal"
  description          = "terraform apply grants the stacks' managed identities their roles, and only those roles."
  condition            = local.rbac_admin_condition
  condition_version    = "2.0"
}

resource "azurerm_role_assignment" "apply_read_only" {
  for_each = toset(var.apply_read_only_scopes)

  scope                = each.value
  role_definition_name = "Reader"
  principal_id         = azurerm_user_assigned_identity.apply.principal_id
  principal_type       = "ServicePrincipal"
  description          = "terraform apply may read, not change, these resources."
}

resource "azurerm_role_assignment" "apply_state" {
  scope                = var.state_container_id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.apply.principal_id
  principal_type       = "ServicePrincipal"
  description          = "terraform apply reads and writes the state."
}

resource "azurerm_role_assignment" "apply_evidence" {
  count = var.evidence_container_id == null ? 0 : 1

  scope                = var.evidence_container_id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.apply.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Release jobs publish evidence (the container's WORM policy refuses overwrites and deletes)."
}

resource "azurerm_role_assignment" "apply_budget" {
  count = var.budget_scope == null ? 0 : 1

  scope                = var.budget_scope
  role_definition_name = "Cost Management Contributor"
  principal_id         = azurerm_user_assigned_identity.apply.principal_id
  principal_type       = "ServicePrincipal"
  description          = "terraform apply manages the environment's cost budget."
}
