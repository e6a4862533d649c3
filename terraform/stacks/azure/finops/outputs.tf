output "budget_name" {
  description = "Name of the environment's monthly cost budget (<environment>-monthly)."
  value       = module.budget.budget_name
}

output "budget_id" {
  description = "Resource ID of the budget (/subscriptions/<id>/providers/Microsoft.Consumption/budgets/<name>)."
  value       = module.budget.budget_id
}
