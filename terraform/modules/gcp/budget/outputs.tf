output "budget_name" {
  description = "Display name of the budget (<name>-monthly)."
  value       = try(google_billing_budget.this.display_name, null)
}

output "budget_id" {
  description = "Resource name of the budget (billingAccounts/<account>/budgets/<id>)."
  value       = try(google_billing_budget.this.name, null)
}

output "notification_channel_ids" {
  description = "IDs of the email notification channels, by address."
  value       = try({ for e, c in google_monitoring_notification_channel.email : e => c.id }, {})
}
