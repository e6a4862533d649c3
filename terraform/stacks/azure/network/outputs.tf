output "network_id" {
  description = "ID of the VNet."
  value       = module.network.vnet_id
}

output "network_cidr" {
  description = "IPv4 address space of the VNet."
  value       = module.network.vnet_cidr
}

output "private_subnet_ids" {
  description = "IDs of the private (workload) subnets, one per zone, in the order of zones."
  value       = module.network.private_subnet_ids
}

output "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets (what the database admits), in the order of zones."
  value       = module.network.private_subnet_cidrs
}

output "zones" {
  description = "Availability zones served; every per-zone list output follows this order."
  value       = module.network.zones
}

output "postgres_subnet_id" {
  description = "ID of the subnet delegated to PostgreSQL Flexible Server."
  value       = module.network.postgres_subnet_id
}

output "apiserver_subnet_id" {
  description = "ID of the subnet delegated to AKS for API Server VNet Integration."
  value       = module.network.apiserver_subnet_id
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways by zone (none, zone 1, or every zone depending on nat_gateway_mode)."
  value       = module.network.nat_gateway_ids
}

output "nat_public_ips" {
  description = "Egress public IP addresses of the NAT gateways by zone."
  value       = module.network.nat_public_ips
}

output "network_security_group_ids" {
  description = "IDs of the network security groups by tier (private, postgres, apiserver)."
  value       = module.network.network_security_group_ids
}

output "flow_log_storage_account_id" {
  description = "ID of the storage account receiving the VNet flow logs."
  value       = module.network.flow_log_storage_account_id
}

output "resource_group_name" {
  description = "Resource group of the network (<environment>-network)."
  value       = azurerm_resource_group.this.name
}
