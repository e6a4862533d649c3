output "budget_name" {
  description = "Name of the environment's monthly cost budget (<environment>-monthly)."
  value       = module.budgets.budget_name
}

output "budget_id" {
  description = "ID of the budget (<account id>:<budget name>)."
  value       = module.budgets.budget_id
}

output "budget_arn" {
  description = "ARN of the budget."
  value       = module.budgets.budget_arn
}
