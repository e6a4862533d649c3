# Regular AZs only (no Local or Wavelength Zones), in name order so that a
# larger az_count appends zones instead of renumbering subnets.
data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:the subnets take the first az_count zones in name order, so a zone AWS adds later is appended and never changes the selection; the state pins each subnet's zone
  state = "available"

  filter {
    name   = "zone-type"
    values = ["availability-zone"]
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) >= var.az_count
      error_message = "The region ${var.region} has ${length(self.names)} available availability zones, fewer than az_count = ${var.az_count}."
    }
  }
}

locals {
  azs = slice(sort(data.aws_availability_zones.available.names), 0, var.az_count)
}

module "network" {
  source = "../../../modules/aws/network"

  name                    = var.environment
  cidr                    = var.cidr
  azs                     = local.azs
  nat_gateway_mode        = var.nat_gateway_mode
  flow_log_retention_days = var.flow_log_retention_days
  flow_log_kms_key_arn    = var.flow_log_kms_key_arn

  # Environment, service, owner and cost-center come from default_tags.
  tags = { stack = "network" }
}
