# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked: the assertions check the budget and alerts the
# module decides, not AWS.

mock_provider "aws" {
  mock_resource "aws_budgets_budget" {
    defaults = {
      arn = "arn:aws:budgets::123456789012:budget/test-monthly"
      id  = "123456789012:test-monthly"
    }
  }
}

variables {
  name                     = "test"
  limit_usd                = 1500
  alert_thresholds_percent = [50, 80, 100]
  alert_emails             = ["platform-alerts@example.com", "finance@example.com"]
  tags = {
    environment = "test"
    owner       = "platform"
  }
}

################################################################################
# Defaults
################################################################################

run "monthly_cost_budget" {
  command = apply

  assert {
    condition = (
      aws_budgets_budget.this.name == "test-monthly" &&
      aws_budgets_budget.this.budget_type == "COST" &&
      aws_budgets_budget.this.time_unit == "MONTHLY" &&
      aws_budgets_budget.this.limit_amount == "1500.00" &&
      aws_budgets_budget.this.limit_unit == "USD"
    )
    error_message = "The budget must be a monthly COST budget <name>-monthly with the limit in USD."
  }

  assert {
    condition     = length(aws_budgets_budget.this.cost_filter) == 0
    error_message = "The budget must cover the whole account (no cost filter)."
  }

  assert {
    condition     = length(aws_budgets_budget.this.notification) == 4
    error_message = "There must be one notification per threshold plus the forecast notification."
  }

  assert {
    condition = toset([
      for n in aws_budgets_budget.this.notification : n.threshold
      if n.notification_type == "ACTUAL" && n.comparison_operator == "GREATER_THAN" && n.threshold_type == "PERCENTAGE"
    ]) == toset([50, 80, 100])
    error_message = "Each threshold must alert on ACTUAL spend GREATER_THAN that PERCENTAGE of the limit."
  }

  assert {
    condition = [
      for n in aws_budgets_budget.this.notification : [n.threshold, n.comparison_operator, n.threshold_type]
      if n.notification_type == "FORECASTED"
    ] == [[100, "GREATER_THAN", "PERCENTAGE"]]
    error_message = "Exactly one FORECASTED notification must fire above 100 percent."
  }

  assert {
    condition = alltrue([
      for n in aws_budgets_budget.this.notification :
      toset(n.subscriber_email_addresses) == toset(["platform-alerts@example.com", "finance@example.com"]) && try(length(n.subscriber_sns_topic_arns), 0) == 0
    ])
    error_message = "Every notification must go to all alert_emails and nowhere else."
  }

  assert {
    condition     = aws_budgets_budget.this.tags == tomap({ environment = "test", owner = "platform", Name = "test-monthly" })
    error_message = "var.tags must be merged onto the budget next to a Name tag."
  }

  assert {
    condition     = output.budget_name == "test-monthly" && output.budget_arn == aws_budgets_budget.this.arn && output.budget_id == aws_budgets_budget.this.id && output.limit_usd == "1500.00"
    error_message = "Outputs must expose the budget."
  }
}

run "fractional_limit_single_threshold_custom_forecast" {
  command = plan

  variables {
    limit_usd                  = 99.999
    alert_thresholds_percent   = [150]
    alert_emails               = ["a@example.org"]
    forecast_threshold_percent = 120
  }

  assert {
    condition     = aws_budgets_budget.this.limit_amount == "100.00"
    error_message = "The limit must be rounded to cents."
  }

  assert {
    condition = (
      length(aws_budgets_budget.this.notification) == 2 &&
      toset([for n in aws_budgets_budget.this.notification : "${n.notification_type}:${n.threshold}"]) == toset(["ACTUAL:150", "FORECASTED:120"])
    )
    error_message = "One threshold must give one ACTUAL and one FORECASTED notification."
  }
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_limit_zero" {
  command = plan
  variables {
    limit_usd = 0
  }
  expect_failures = [var.limit_usd]
}

run "invalid_limit_negative" {
  command = plan
  variables {
    limit_usd = -10
  }
  expect_failures = [var.limit_usd]
}

run "invalid_thresholds_empty" {
  command = plan
  variables {
    alert_thresholds_percent = []
  }
  expect_failures = [var.alert_thresholds_percent]
}

run "invalid_threshold_zero" {
  command = plan
  variables {
    alert_thresholds_percent = [0, 50]
  }
  expect_failures = [var.alert_thresholds_percent]
}

run "invalid_threshold_above_200" {
  command = plan
  variables {
    alert_thresholds_percent = [50, 201]
  }
  expect_failures = [var.alert_thresholds_percent]
}

run "invalid_threshold_fraction" {
  command = plan
  variables {
    alert_thresholds_percent = [50.5]
  }
  expect_failures = [var.alert_thresholds_percent]
}

run "invalid_thresholds_duplicate" {
  command = plan
  variables {
    alert_thresholds_percent = [80, 80]
  }
  expect_failures = [var.alert_thresholds_percent]
}

run "invalid_thresholds_too_many" {
  command = plan
  variables {
    alert_thresholds_percent = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
  }
  expect_failures = [var.alert_thresholds_percent]
}

run "invalid_forecast_threshold" {
  command = plan
  variables {
    forecast_threshold_percent = 0
  }
  expect_failures = [var.forecast_threshold_percent]
}

run "invalid_emails_empty" {
  command = plan
  variables {
    alert_emails = []
  }
  expect_failures = [var.alert_emails]
}

run "invalid_email_address" {
  command = plan
  variables {
    alert_emails = ["platform-alerts"]
  }
  expect_failures = [var.alert_emails]
}

run "invalid_email_duplicate" {
  command = plan
  variables {
    alert_emails = ["ops@example.com", "OPS@example.com"]
  }
  expect_failures = [var.alert_emails]
}

run "invalid_name_uppercase" {
  command = plan
  variables {
    name = "Dev"
  }
  expect_failures = [var.name]
}

run "invalid_tags_aws_prefix" {
  command = plan
  variables {
    tags = { "aws:createdBy" = "x" }
  }
  expect_failures = [var.tags]
}
