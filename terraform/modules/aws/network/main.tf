data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # Position of each AZ in var.azs; it alone selects the subnet CIDRs, so
  # appending a zone never renumbers the existing subnets.
  az_index = { for i, az in var.azs : az => i }

  # Carving (see README): the VPC is split into halves and quarters.
  #   private : newbits 3, index i       -> first half,  one 1/8 per AZ slot
  #   public  : newbits 4, index 8 + i   -> third quarter, one 1/16 per AZ slot
  #   database: newbits 4, index 12 + i  -> last quarter,  one 1/16 per AZ slot
  private_subnet_cidrs  = { for az, i in local.az_index : az => cidrsubnet(var.cidr, 3, i) }
  public_subnet_cidrs   = { for az, i in local.az_index : az => cidrsubnet(var.cidr, 4, 8 + i) }
  database_subnet_cidrs = { for az, i in local.az_index : az => cidrsubnet(var.cidr, 4, 12 + i) }

  # AZs that get a NAT gateway, and the NAT gateway each AZ's private route table uses.
  nat_azs = slice(var.azs, 0, var.nat_gateway_mode == "per_az" ? length(var.azs) : var.nat_gateway_mode == "single" ? 1 : 0)
  nat_az_for = {
    for az in var.azs : az => (var.nat_gateway_mode == "per_az" ? az : var.azs[0])
    if var.nat_gateway_mode != "none"
  }
}

################################################################################
# VPC
################################################################################

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

# Adopt the default security group and strip every rule from it, so nothing
# that falls back to it gets any traffic.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-default-deny" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = var.name })
}

################################################################################
# Subnets
################################################################################

resource "aws_subnet" "public" {
  for_each = local.public_subnet_cidrs

  vpc_id                  = aws_vpc.this.id
  cidr_block              = each.value
  availability_zone       = each.key
  map_public_ip_on_launch = false

  tags = merge(var.tags, { Name = "${var.name}-public-${each.key}", tier = "public" })
}

resource "aws_subnet" "private" {
  for_each = local.private_subnet_cidrs

  vpc_id            = aws_vpc.this.id
  cidr_block        = each.value
  availability_zone = each.key

  tags = merge(var.tags, { Name = "${var.name}-private-${each.key}", tier = "private" })
}

resource "aws_subnet" "database" {
  for_each = local.database_subnet_cidrs

  vpc_id            = aws_vpc.this.id
  cidr_block        = each.value
  availability_zone = each.key

  tags = merge(var.tags, { Name = "${var.name}-database-${each.key}", tier = "database" })
}

################################################################################
# NAT gateways
################################################################################

resource "aws_eip" "nat" {
  for_each = toset(local.nat_azs)

  domain = "vpc"

  tags = merge(var.tags, { Name = "${var.name}-nat-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  for_each = toset(local.nat_azs)

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

################################################################################
# Route tables
################################################################################

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-public", tier = "public" })
}

resource "aws_route" "public_internet_gateway" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  for_each = local.private_subnet_cidrs

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-private-${each.key}", tier = "private" })
}

resource "aws_route" "private_nat_gateway" {
  for_each = local.nat_az_for

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[each.value].id
}

resource "aws_route_table_association" "private" {
  for_each = aws_subnet.private

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

# One table for the whole database tier, deliberately without any route to the
# internet (only the local route and the S3 gateway endpoint).
resource "aws_route_table" "database" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-database", tier = "database" })
}

resource "aws_route_table_association" "database" {
  for_each = aws_subnet.database

  subnet_id      = each.value.id
  route_table_id = aws_route_table.database.id
}

################################################################################
# S3 gateway endpoint (free; keeps S3 traffic off the NAT gateways)
################################################################################

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = concat([for az in var.azs : aws_route_table.private[az].id], [aws_route_table.database.id])

  tags = merge(var.tags, { Name = "${var.name}-s3" })
}
