output "network_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "network_cidr" {
  description = "IPv4 CIDR block of the VPC."
  value       = module.network.vpc_cidr_block
}

output "azs" {
  description = "Availability zones used; every per-AZ list output follows this order."
  value       = module.network.azs
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, in the order of azs."
  value       = module.network.public_subnet_ids
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, in the order of azs."
  value       = module.network.private_subnet_ids
}

output "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets (where workloads run), in the order of azs."
  value       = module.network.private_subnet_cidrs
}

output "database_subnet_ids" {
  description = "IDs of the database subnets, in the order of azs."
  value       = module.network.database_subnet_ids
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways (none, one, or one per AZ depending on nat_gateway_mode)."
  value       = module.network.nat_gateway_ids
}

output "private_route_table_ids" {
  description = "IDs of the private route tables, in the order of azs."
  value       = module.network.private_route_table_ids
}

output "database_route_table_ids" {
  description = "IDs of the database route tables."
  value       = module.network.database_route_table_ids
}

output "flow_log_group_name" {
  description = "Name of the CloudWatch log group that receives the VPC flow logs."
  value       = module.network.flow_log_group_name
}
