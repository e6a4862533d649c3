data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # Units and nanos of the amount (e.g. 1234.5 -> "1234", 500000000).
  units = floor(var.limit_usd)
  nanos = floor((var.limit_usd - local.units) * 1000000000)
}

# One email notification channel per address; the budget notifies them all
# at every threshold.
resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  display_name = "${var.name} budget: ${each.value}"
  description  = "Budget alerts of ${var.name}-monthly."
  type         = "email"
  enabled      = true

  labels = {
    email_address = each.value
  }

  user_labels = var.labels
}

resource "google_billing_budget" "this" {
  billing_account = var.billing_account
  display_name    = "${var.name}-monthly"

  # The project's costs, per calendar month, credits included.
  budget_filter {
    projects               = ["projects/${data.google_project.this.number}"]
    calendar_period        = "MONTH"
    credit_types_treatment = "INCLUDE_ALL_CREDITS"
  }

  amount {
    specified_amount {
      currency_code = "USD"
      units         = tostring(local.units)
      nanos         = local.nanos
    }
  }

  # Actual spend at each threshold.
  dynamic "threshold_rules" {
    for_each = sort(var.alert_thresholds_percent)
    content {
      threshold_percent = threshold_rules.value / 100
      spend_basis       = "CURRENT_SPEND"
    }
  }

  # The month's forecast above forecast_threshold_percent.
  dynamic "threshold_rules" {
    for_each = var.forecast_threshold_percent == null ? [] : [var.forecast_threshold_percent]
    content {
      threshold_percent = threshold_rules.value / 100
      spend_basis       = "FORECASTED_SPEND"
    }
  }

  # Only the listed addresses: not the billing account's administrators too.
  all_updates_rule {
    monitoring_notification_channels = [for e in sort(var.alert_emails) : google_monitoring_notification_channel.email[e].id]
    disable_default_iam_recipients   = true
  }
}
