# One subscription-level monthly cost budget for the environment. A budget is
# a subscription resource: no resource group, and it takes no tags.
module "budget" {
  source = "../../../modules/azure/budget"

  name                     = "${var.environment}-monthly"
  subscription_id          = var.subscription_id
  amount                   = var.monthly_limit_usd
  alert_thresholds_percent = var.alert_thresholds_percent
  alert_emails             = var.alert_emails
}
