################################################################################
# Monthly cost budget of the account, with alerts on actual and forecasted spend
################################################################################

resource "aws_budgets_budget" "this" {
  name         = "${var.name}-monthly"
  budget_type  = "COST"
  time_unit    = "MONTHLY"
  limit_amount = format("%.2f", var.limit_usd)
  limit_unit   = "USD"

  # One alert per threshold on the spend so far this month.
  dynamic "notification" {
    for_each = toset(var.alert_thresholds_percent)

    content {
      notification_type          = "ACTUAL"
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value
      threshold_type             = "PERCENTAGE"
      subscriber_email_addresses = var.alert_emails
    }
  }

  # And one when the month is forecast to end above the limit.
  notification {
    notification_type          = "FORECASTED"
    comparison_operator        = "GREATER_THAN"
    threshold                  = var.forecast_threshold_percent
    threshold_type             = "PERCENTAGE"
    subscriber_email_addresses = var.alert_emails
  }

  tags = merge(var.tags, { Name = "${var.name}-monthly" })
}
