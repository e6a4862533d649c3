output "vpc_id" {
  description = "ID of the VPC."
  value       = try(aws_vpc.this.id, null)
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC."
  value       = try(aws_vpc.this.cidr_block, null)
}

output "azs" {
  description = "Availability zones used, in the order that selects the subnet CIDRs; every per-AZ list output follows this order."
  value       = var.azs
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, one per AZ, in the order of azs."
  value       = try([for az in var.azs : aws_subnet.public[az].id], [])
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per AZ, in the order of azs."
  value       = try([for az in var.azs : aws_subnet.private[az].id], [])
}

output "database_subnet_ids" {
  description = "IDs of the database subnets, one per AZ, in the order of azs."
  value       = try([for az in var.azs : aws_subnet.database[az].id], [])
}

output "public_subnet_cidrs" {
  description = "CIDR blocks of the public subnets, in the order of azs."
  value       = try([for az in var.azs : aws_subnet.public[az].cidr_block], [])
}

output "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets, in the order of azs."
  value       = try([for az in var.azs : aws_subnet.private[az].cidr_block], [])
}

output "database_subnet_cidrs" {
  description = "CIDR blocks of the database subnets, in the order of azs."
  value       = try([for az in var.azs : aws_subnet.database[az].cidr_block], [])
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways: empty for \"none\", one for \"single\", one per AZ (in the order of azs) for \"per_az\"."
  value       = try([for az in local.nat_azs : aws_nat_gateway.this[az].id], [])
}

output "nat_public_ips" {
  description = "Public IPs of the NAT gateways (the VPC's egress addresses), in the order of nat_gateway_ids."
  value       = try([for az in local.nat_azs : aws_eip.nat[az].public_ip], [])
}

output "private_route_table_ids" {
  description = "IDs of the private route tables, one per AZ, in the order of azs."
  value       = try([for az in var.azs : aws_route_table.private[az].id], [])
}

output "database_route_table_ids" {
  description = "IDs of the database route tables (one table shared by the whole tier, as a list for symmetry)."
  value       = try([aws_route_table.database.id], [])
}

output "flow_log_group_name" {
  description = "Name of the CloudWatch log group that receives the VPC flow logs."
  value       = try(aws_cloudwatch_log_group.flow_log.name, null)
}

output "flow_log_id" {
  description = "ID of the VPC flow log."
  value       = try(aws_flow_log.this.id, null)
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway VPC endpoint attached to the private and database route tables."
  value       = try(aws_vpc_endpoint.s3.id, null)
}
