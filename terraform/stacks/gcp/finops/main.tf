resource "google_project_service" "this" {
  for_each = toset(["billingbudgets.googleapis.com", "monitoring.googleapis.com"])

  service = each.value

  # Other stacks use the same APIs: destroying this stack never turns them off.
  disable_on_destroy = false
}

# One monthly budget on the billing account, scoped to the environment's
# project, in USD.
module "budget" {
  source = "../../../modules/gcp/budget"

  name                       = var.environment
  project_id                 = var.project_id
  billing_account            = var.billing_account
  limit_usd                  = var.monthly_limit_usd
  alert_thresholds_percent   = var.alert_thresholds_percent
  alert_emails               = var.alert_emails
  forecast_threshold_percent = 100

  # The environment's labels again for the notification channels'
  # user_labels, which default_labels does not reach.
  labels = merge(local.labels, { stack = "finops" })

  depends_on = [google_project_service.this]
}
