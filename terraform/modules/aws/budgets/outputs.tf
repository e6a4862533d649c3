output "budget_name" {
  description = "Name of the budget (<name>-monthly)."
  value       = try(aws_budgets_budget.this.name, null)
}

output "budget_id" {
  description = "ID of the budget (<account id>:<budget name>)."
  value       = try(aws_budgets_budget.this.id, null)
}

output "budget_arn" {
  description = "ARN of the budget."
  value       = try(aws_budgets_budget.this.arn, null)
}

output "limit_usd" {
  description = "Monthly limit of the budget in US dollars, as sent to AWS Budgets."
  value       = try(aws_budgets_budget.this.limit_amount, null)
}
