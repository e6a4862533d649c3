output "vnet_id" {
  description = "ID of the VNet."
  value       = try(azurerm_virtual_network.this.id, null)
}

output "vnet_name" {
  description = "Name of the VNet."
  value       = try(azurerm_virtual_network.this.name, null)
}

output "vnet_cidr" {
  description = "IPv4 address space of the VNet."
  value       = var.cidr
}

output "zones" {
  description = "Availability zones served, in the order of every per-zone list output."
  value       = var.zones
}

output "private_subnet_ids" {
  description = "IDs of the private (workload) subnets, in the order of zones."
  value       = try([for zone in var.zones : azurerm_subnet.private[zone].id], [])
}

output "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets, in the order of zones."
  value       = [for zone in var.zones : local.private_cidrs[zone]]
}

output "postgres_subnet_id" {
  description = "ID of the subnet delegated to PostgreSQL Flexible Server."
  value       = try(azurerm_subnet.postgres.id, null)
}

output "apiserver_subnet_id" {
  description = "ID of the subnet delegated to AKS for API Server VNet Integration."
  value       = try(azurerm_subnet.apiserver.id, null)
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways by zone (none, the first zone, or every zone depending on nat_gateway_mode)."
  value       = try({ for zone, nat in azurerm_nat_gateway.this : zone => nat.id }, {})
}

output "nat_public_ips" {
  description = "Egress public IP addresses of the NAT gateways by zone (to allowlist elsewhere)."
  value       = try({ for zone, ip in azurerm_public_ip.nat : zone => ip.ip_address }, {})
}

output "network_security_group_ids" {
  description = "IDs of the network security groups by tier (private, postgres, apiserver)."
  value = try({
    private   = azurerm_network_security_group.private.id
    postgres  = azurerm_network_security_group.postgres.id
    apiserver = azurerm_network_security_group.apiserver.id
  }, {})
}

output "flow_log_storage_account_id" {
  description = "ID of the storage account receiving the VNet flow logs."
  value       = try(azurerm_storage_account.flow_logs.id, null)
}

output "network_watcher_name" {
  description = "Name of the network watcher of the region."
  value       = try(azurerm_network_watcher.this.name, null)
}
