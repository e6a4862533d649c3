output "budget_name" {
  description = "Display name of the environment's monthly budget (<environment>-monthly)."
  value       = module.budget.budget_name
}

output "budget_id" {
  description = "Resource name of the budget (billingAccounts/<account>/budgets/<id>)."
  value       = module.budget.budget_id
}

output "notification_channel_ids" {
  description = "IDs of the email notification channels the budget alerts, by address."
  value       = module.budget.notification_channel_ids
}
