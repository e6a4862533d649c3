output "budget_id" {
  description = "Resource ID of the budget."
  value       = try(azurerm_consumption_budget_subscription.this.id, null)
}

output "budget_name" {
  description = "Name of the budget."
  value       = try(azurerm_consumption_budget_subscription.this.name, null)
}
