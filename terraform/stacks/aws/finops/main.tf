# One account-level monthly cost budget for the environment. AWS Budgets is a
# global service: the provider sends its calls to the Budgets endpoint whatever
# the region.
module "budgets" {
  source = "../../../modules/aws/budgets"

  name                       = var.environment
  limit_usd                  = var.monthly_limit_usd
  alert_thresholds_percent   = var.alert_thresholds_percent
  alert_emails               = var.alert_emails
  forecast_threshold_percent = 100

  # Environment, service, owner and cost-center come from default_tags.
  tags = { stack = "finops" }
}
