provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = var.tags
  }
}

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:a test VPC: no traffic to log
  cidr_block           = "10.20.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
}

resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
}

resource "aws_subnet" "this" {
  count             = 3
  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet("10.20.0.0/16", 8, count.index)
  availability_zone = "${var.region}${["a", "b", "c"][count.index]}"
}

resource "aws_security_group" "endpoints" {
  name        = "${var.environment}-endpoints"
  description = "HTTPS from the VPC to the interface endpoints"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS from the VPC"
  cidr_ipv4         = "10.20.0.0/16"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# An interface endpoint: one ENI per subnet, each billed by the hour.
resource "aws_vpc_endpoint" "kms" {
  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${var.region}.kms"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.this[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
}
