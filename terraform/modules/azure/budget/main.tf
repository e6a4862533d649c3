locals {
  # Budgets start on the first day of a month. The start is taken from the
  # first plan and then kept (lifecycle below), so the budget is not recreated
  # every month.
  start_date = formatdate("YYYY-MM-01'T'00:00:00Z", plantimestamp())
}

resource "azurerm_consumption_budget_subscription" "this" {
  name            = var.name
  subscription_id = "/subscriptions/${var.subscription_id}"
  amount          = var.amount
  time_grain      = "Monthly"

  time_period {
    start_date = local.start_date
  }

  # One notification per threshold, on actual (not forecast) spend.
  dynamic "notification" {
    for_each = toset(var.alert_thresholds_percent)

    content {
      enabled        = true
      threshold      = notification.value
      threshold_type = "Actual"
      operator       = "GreaterThanOrEqualTo"
      contact_emails = var.alert_emails
    }
  }

  lifecycle {
    ignore_changes = [time_period]
  }
}
