# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked, so apply runs finish in seconds and IDs are
# random strings; the assertions check what the module decides, not AWS.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  # Mocked resources still go through the real provider's config validation:
  # computed ARNs that feed ARN-validated arguments need ARN-shaped values.
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vpc-flow-logs/test"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/test-vpc-flow-logs-eu-west-1"
    }
  }
}

variables {
  name = "test"
  cidr = "10.20.0.0/16"
  azs  = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  tags = {
    environment   = "test"
    owner         = "platform"
    "cost-center" = "cc-1234"
  }
}

################################################################################
# Default inputs: single NAT gateway
################################################################################

run "single_nat_defaults" {
  command = apply

  assert {
    condition     = aws_vpc.this.cidr_block == "10.20.0.0/16" && aws_vpc.this.enable_dns_support && aws_vpc.this.enable_dns_hostnames
    error_message = "The VPC must use var.cidr with DNS support and DNS hostnames on."
  }

  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.private) == 3 && length(aws_subnet.database) == 3
    error_message = "Every tier must have exactly one subnet per AZ."
  }

  assert {
    condition = alltrue([
      for az in var.azs : aws_subnet.public[az].availability_zone == az && aws_subnet.private[az].availability_zone == az && aws_subnet.database[az].availability_zone == az
    ])
    error_message = "Each subnet must be in the AZ it is keyed by."
  }

  assert {
    condition = (
      output.private_subnet_cidrs == ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"] &&
      output.public_subnet_cidrs == ["10.20.128.0/20", "10.20.144.0/20", "10.20.160.0/20"] &&
      output.database_subnet_cidrs == ["10.20.192.0/20", "10.20.208.0/20", "10.20.224.0/20"]
    )
    error_message = "The subnet carving changed: private newbits 3 index i, public newbits 4 index 8+i, database newbits 4 index 12+i."
  }

  # Two aligned blocks overlap exactly when they share the network address
  # under the shorter of their two prefixes.
  assert {
    condition = alltrue(flatten([
      for i, a in concat(output.public_subnet_cidrs, output.private_subnet_cidrs, output.database_subnet_cidrs) : [
        for j, b in concat(output.public_subnet_cidrs, output.private_subnet_cidrs, output.database_subnet_cidrs) :
        i == j || cidrhost(format("%s/%d", cidrhost(a, 0), min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))), 0) != cidrhost(format("%s/%d", cidrhost(b, 0), min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))), 0)
      ]
    ]))
    error_message = "Subnet CIDRs must not overlap."
  }

  assert {
    condition = alltrue([
      for c in concat(output.public_subnet_cidrs, output.private_subnet_cidrs, output.database_subnet_cidrs) :
      tonumber(split("/", c)[1]) > tonumber(split("/", var.cidr)[1]) && cidrhost(format("%s/%s", cidrhost(c, 0), split("/", var.cidr)[1]), 0) == cidrhost(var.cidr, 0)
    ])
    error_message = "Every subnet must lie inside the VPC CIDR."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "Public subnets must not map public IPs on launch."
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_eip.nat) == 1 && keys(aws_nat_gateway.this) == ["eu-west-1a"]
    error_message = "The single mode must create one NAT gateway, in the first AZ."
  }

  assert {
    condition     = aws_nat_gateway.this["eu-west-1a"].subnet_id == aws_subnet.public["eu-west-1a"].id && aws_nat_gateway.this["eu-west-1a"].allocation_id == aws_eip.nat["eu-west-1a"].id
    error_message = "The NAT gateway must sit in the first public subnet with its own EIP."
  }

  assert {
    condition     = length(output.nat_gateway_ids) == 1 && length(output.nat_public_ips) == 1
    error_message = "nat_gateway_ids and nat_public_ips must list the single NAT gateway."
  }

  assert {
    condition = length(aws_route_table.private) == 3 && alltrue([
      for az in var.azs :
      aws_route.private_nat_gateway[az].route_table_id == aws_route_table.private[az].id &&
      aws_route.private_nat_gateway[az].destination_cidr_block == "0.0.0.0/0" &&
      aws_route.private_nat_gateway[az].nat_gateway_id == aws_nat_gateway.this["eu-west-1a"].id
    ])
    error_message = "Every private route table must default-route to the single NAT gateway."
  }

  assert {
    condition     = alltrue([for az in var.azs : aws_route_table_association.private[az].route_table_id == aws_route_table.private[az].id && aws_route_table_association.private[az].subnet_id == aws_subnet.private[az].id])
    error_message = "Each private subnet must use its own AZ's route table."
  }

  assert {
    condition     = aws_route.public_internet_gateway.route_table_id == aws_route_table.public.id && aws_route.public_internet_gateway.destination_cidr_block == "0.0.0.0/0" && aws_route.public_internet_gateway.gateway_id == aws_internet_gateway.this.id
    error_message = "The public route table must default-route to the internet gateway."
  }

  assert {
    condition     = alltrue([for a in aws_route_table_association.public : a.route_table_id == aws_route_table.public.id])
    error_message = "Every public subnet must use the public route table."
  }

  assert {
    condition = (
      length(aws_route_table.database.route) == 0 &&
      alltrue([for a in aws_route_table_association.database : a.route_table_id == aws_route_table.database.id]) &&
      alltrue([for r in concat([aws_route.public_internet_gateway], values(aws_route.private_nat_gateway)) : r.route_table_id != aws_route_table.database.id])
    )
    error_message = "The database tier must use the database route table, which has no internet route."
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0 && aws_default_security_group.this.vpc_id == aws_vpc.this.id
    error_message = "The default security group must have no rules."
  }

  assert {
    condition = (
      aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" &&
      aws_vpc_endpoint.s3.service_name == "com.amazonaws.eu-west-1.s3" &&
      toset(aws_vpc_endpoint.s3.route_table_ids) == toset(concat(output.private_route_table_ids, output.database_route_table_ids)) &&
      !contains(tolist(aws_vpc_endpoint.s3.route_table_ids), aws_route_table.public.id)
    )
    error_message = "The S3 gateway endpoint must be attached to the private and database route tables only."
  }

  assert {
    condition = (
      aws_flow_log.this.vpc_id == aws_vpc.this.id &&
      aws_flow_log.this.traffic_type == "ALL" &&
      aws_flow_log.this.log_destination_type == "cloud-watch-logs" &&
      aws_flow_log.this.log_destination == aws_cloudwatch_log_group.flow_log.arn &&
      aws_flow_log.this.iam_role_arn == aws_iam_role.flow_log.arn
    )
    error_message = "The VPC flow log must capture ALL traffic into the log group through the module's role."
  }

  assert {
    condition     = aws_cloudwatch_log_group.flow_log.retention_in_days == 30 && aws_cloudwatch_log_group.flow_log.kms_key_id == null && output.flow_log_group_name == "/aws/vpc-flow-logs/test"
    error_message = "The flow log group must default to 30 days retention and no CMK."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.flow_log.assume_role_policy).Statement[0].Principal.Service == "vpc-flow-logs.amazonaws.com" &&
      jsondecode(aws_iam_role.flow_log.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    )
    error_message = "Only VPC flow logs of this account may assume the role."
  }

  assert {
    condition = (
      aws_iam_role_policy.flow_log.role == aws_iam_role.flow_log.id &&
      toset(jsondecode(aws_iam_role_policy.flow_log.policy).Statement[0].Action) == toset(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"]) &&
      toset(jsondecode(aws_iam_role_policy.flow_log.policy).Statement[0].Resource) == toset([aws_cloudwatch_log_group.flow_log.arn, "${aws_cloudwatch_log_group.flow_log.arn}:*"])
    )
    error_message = "The flow log role may only write to its own log group."
  }

  assert {
    condition = alltrue([
      for t in concat(
        [aws_vpc.this.tags, aws_internet_gateway.this.tags, aws_default_security_group.this.tags, aws_route_table.public.tags, aws_route_table.database.tags],
        [aws_vpc_endpoint.s3.tags, aws_cloudwatch_log_group.flow_log.tags, aws_iam_role.flow_log.tags, aws_flow_log.this.tags],
        [for s in values(aws_subnet.public) : s.tags], [for s in values(aws_subnet.private) : s.tags], [for s in values(aws_subnet.database) : s.tags],
        [for r in values(aws_route_table.private) : r.tags], [for e in values(aws_eip.nat) : e.tags], [for n in values(aws_nat_gateway.this) : n.tags],
      ) : lookup(t, "environment", null) == "test" && lookup(t, "owner", null) == "platform" && lookup(t, "cost-center", null) == "cc-1234" && startswith(lookup(t, "Name", ""), "test")
    ])
    error_message = "var.tags must be merged onto every taggable resource, next to a Name tag with the name prefix."
  }

  assert {
    condition     = aws_subnet.public["eu-west-1b"].tags["Name"] == "test-public-eu-west-1b" && aws_subnet.database["eu-west-1c"].tags["tier"] == "database"
    error_message = "Subnets must be named <name>-<tier>-<az> and tagged with their tier."
  }

  assert {
    condition     = output.vpc_id == aws_vpc.this.id && output.azs == var.azs && output.public_subnet_ids == [for az in var.azs : aws_subnet.public[az].id] && output.flow_log_id == aws_flow_log.this.id && output.s3_endpoint_id == aws_vpc_endpoint.s3.id
    error_message = "Outputs must expose the created resources in AZ order."
  }
}

################################################################################
# NAT gateway modes
################################################################################

run "per_az_nat" {
  command = apply

  variables {
    nat_gateway_mode = "per_az"
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_eip.nat) == 3 && length(output.nat_gateway_ids) == 3 && length(output.nat_public_ips) == 3
    error_message = "The per_az mode must create one NAT gateway and EIP per AZ."
  }

  assert {
    condition = alltrue([
      for az in var.azs :
      aws_nat_gateway.this[az].subnet_id == aws_subnet.public[az].id &&
      aws_route.private_nat_gateway[az].route_table_id == aws_route_table.private[az].id &&
      aws_route.private_nat_gateway[az].nat_gateway_id == aws_nat_gateway.this[az].id
    ])
    error_message = "Each AZ's private route table must default-route to the NAT gateway in the same AZ."
  }

  assert {
    condition     = output.nat_gateway_ids == [for az in var.azs : aws_nat_gateway.this[az].id]
    error_message = "nat_gateway_ids must follow the AZ order."
  }
}

run "no_nat" {
  command = apply

  variables {
    nat_gateway_mode = "none"
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_eip.nat) == 0 && output.nat_gateway_ids == [] && output.nat_public_ips == []
    error_message = "The none mode must create no NAT gateway and no EIP."
  }

  assert {
    condition     = length(aws_route.private_nat_gateway) == 0 && length(aws_route_table.private) == 3
    error_message = "Without NAT, the private route tables must exist but have no default route."
  }

  assert {
    condition     = length(aws_route_table.database.route) == 0 && aws_route.public_internet_gateway.gateway_id == aws_internet_gateway.this.id
    error_message = "The database tier stays without an internet route; the public tier keeps its IGW route."
  }
}

################################################################################
# Edges: smallest VPC with the most AZs, one AZ, non-default flow log settings
################################################################################

run "smallest_vpc_four_azs" {
  command = apply

  variables {
    name                    = "edge-case"
    cidr                    = "192.168.10.0/24"
    azs                     = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
    nat_gateway_mode        = "per_az"
    flow_log_retention_days = 365
    flow_log_traffic_type   = "REJECT"
    flow_log_kms_key_arn    = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = length(aws_subnet.public) == 4 && length(aws_subnet.private) == 4 && length(aws_subnet.database) == 4 && length(aws_nat_gateway.this) == 4
    error_message = "Four AZs must give four subnets per tier and four NAT gateways."
  }

  assert {
    condition = (
      alltrue([for c in output.private_subnet_cidrs : endswith(c, "/27")]) &&
      alltrue([for c in concat(output.public_subnet_cidrs, output.database_subnet_cidrs) : endswith(c, "/28")])
    )
    error_message = "A /24 VPC must give /27 private and /28 public and database subnets (AWS's smallest)."
  }

  assert {
    condition = alltrue(flatten([
      for i, a in concat(output.public_subnet_cidrs, output.private_subnet_cidrs, output.database_subnet_cidrs) : [
        for j, b in concat(output.public_subnet_cidrs, output.private_subnet_cidrs, output.database_subnet_cidrs) :
        i == j || cidrhost(format("%s/%d", cidrhost(a, 0), min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))), 0) != cidrhost(format("%s/%d", cidrhost(b, 0), min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))), 0)
      ]
    ]))
    error_message = "Subnet CIDRs must not overlap."
  }

  assert {
    condition = alltrue([
      for c in concat(output.public_subnet_cidrs, output.private_subnet_cidrs, output.database_subnet_cidrs) :
      tonumber(split("/", c)[1]) > tonumber(split("/", var.cidr)[1]) && cidrhost(format("%s/%s", cidrhost(c, 0), split("/", var.cidr)[1]), 0) == cidrhost(var.cidr, 0)
    ])
    error_message = "Every subnet must lie inside the VPC CIDR."
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.flow_log.retention_in_days == 365 &&
      aws_cloudwatch_log_group.flow_log.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" &&
      aws_flow_log.this.traffic_type == "REJECT"
    )
    error_message = "Retention, CMK and traffic type must reach the log group and flow log."
  }

  assert {
    condition     = output.flow_log_group_name == "/aws/vpc-flow-logs/edge-case"
    error_message = "The log group name must follow the name prefix."
  }
}

run "single_az" {
  command = plan

  variables {
    azs = ["eu-west-1b"]
  }

  assert {
    condition     = length(aws_subnet.public) == 1 && length(aws_subnet.private) == 1 && length(aws_subnet.database) == 1 && keys(aws_nat_gateway.this) == ["eu-west-1b"]
    error_message = "One AZ must give one subnet per tier and the NAT gateway in that AZ."
  }

  assert {
    condition     = aws_subnet.private["eu-west-1b"].cidr_block == "10.20.0.0/19" && aws_subnet.public["eu-west-1b"].cidr_block == "10.20.128.0/20" && aws_subnet.database["eu-west-1b"].cidr_block == "10.20.192.0/20"
    error_message = "The first AZ in the list always gets the first slot of each tier."
  }
}

run "appending_an_az_keeps_existing_cidrs" {
  command = plan

  variables {
    azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"]
  }

  assert {
    condition = (
      slice(output.private_subnet_cidrs, 0, 3) == run.single_nat_defaults.private_subnet_cidrs &&
      slice(output.public_subnet_cidrs, 0, 3) == run.single_nat_defaults.public_subnet_cidrs &&
      slice(output.database_subnet_cidrs, 0, 3) == run.single_nat_defaults.database_subnet_cidrs
    )
    error_message = "Appending an AZ must not renumber the existing subnets."
  }
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_cidr_not_a_cidr" {
  command = plan
  variables {
    cidr = "10.20.0.0"
  }
  expect_failures = [var.cidr]
}

run "invalid_cidr_ipv6" {
  command = plan
  variables {
    cidr = "fd00:10::/56"
  }
  expect_failures = [var.cidr]
}

run "invalid_cidr_too_large" {
  command = plan
  variables {
    cidr = "10.0.0.0/8"
  }
  expect_failures = [var.cidr]
}

run "invalid_cidr_too_small" {
  command = plan
  variables {
    cidr = "10.0.0.0/25"
  }
  expect_failures = [var.cidr]
}

run "invalid_cidr_host_bits" {
  command = plan
  variables {
    cidr = "10.20.1.0/16"
  }
  expect_failures = [var.cidr]
}

run "invalid_azs_empty" {
  command = plan
  variables {
    azs = []
  }
  expect_failures = [var.azs]
}

run "invalid_azs_five" {
  command = plan
  variables {
    azs = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e"]
  }
  expect_failures = [var.azs]
}

run "invalid_azs_duplicate" {
  command = plan
  variables {
    azs = ["eu-west-1a", "eu-west-1a"]
  }
  expect_failures = [var.azs]
}

run "invalid_azs_zone_id" {
  command = plan
  variables {
    azs = ["euw1-az1"]
  }
  expect_failures = [var.azs]
}

run "invalid_nat_gateway_mode" {
  command = plan
  variables {
    nat_gateway_mode = "multi"
  }
  expect_failures = [var.nat_gateway_mode]
}

run "invalid_flow_log_retention_days" {
  command = plan
  variables {
    flow_log_retention_days = 42
  }
  expect_failures = [var.flow_log_retention_days]
}

run "invalid_flow_log_traffic_type" {
  command = plan
  variables {
    flow_log_traffic_type = "all"
  }
  expect_failures = [var.flow_log_traffic_type]
}

run "invalid_flow_log_kms_key_alias" {
  command = plan
  variables {
    flow_log_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/logs"
  }
  expect_failures = [var.flow_log_kms_key_arn]
}

run "invalid_name_uppercase" {
  command = plan
  variables {
    name = "Bad_Name"
  }
  expect_failures = [var.name]
}

run "invalid_name_too_long" {
  command = plan
  variables {
    name = "a-name-that-is-longer-than-32-chars"
  }
  expect_failures = [var.name]
}

run "invalid_name_empty" {
  command = plan
  variables {
    name = ""
  }
  expect_failures = [var.name]
}

run "invalid_tags_aws_prefix" {
  command = plan
  variables {
    tags = { "aws:cloudformation:stack-name" = "x" }
  }
  expect_failures = [var.tags]
}
