output "network_id" {
  description = "ID of the VPC network (projects/<project>/global/networks/<name>)."
  value       = try(google_compute_network.this.id, null)
}

output "network_name" {
  description = "Name of the VPC network."
  value       = try(google_compute_network.this.name, null)
}

output "network_self_link" {
  description = "Self link of the VPC network."
  value       = try(google_compute_network.this.self_link, null)
}

output "network_cidr" {
  description = "IPv4 address space of the network; every range below is carved from it."
  value       = var.cidr
}

output "private_subnet_id" {
  description = "ID of the private subnet (projects/<project>/regions/<region>/subnetworks/<name>); regional, it spans every zone."
  value       = try(google_compute_subnetwork.private.id, null)
}

output "private_subnet_name" {
  description = "Name of the private subnet."
  value       = try(google_compute_subnetwork.private.name, null)
}

output "private_subnet_cidr" {
  description = "Primary range of the private subnet (the nodes' addresses)."
  value       = try(google_compute_subnetwork.private.ip_cidr_range, null)
}

output "pods_range_name" {
  description = "Name of the subnet's secondary range for GKE pods."
  value       = local.pods_range_name
}

output "pods_cidr" {
  description = "Secondary range for GKE pods (VPC-native: pods have addresses of the network)."
  value       = local.pods_cidr
}

output "services_range_name" {
  description = "Name of the subnet's secondary range for GKE services."
  value       = local.services_range_name
}

output "services_cidr" {
  description = "Secondary range for GKE services (cluster IPs)."
  value       = local.services_cidr
}

output "private_services_cidr" {
  description = "Range reserved for private services access (Cloud SQL private addresses)."
  value       = local.private_services_cidr
}

output "private_services_connection" {
  description = "ID of the service networking connection (private services access); Cloud SQL instances with a private address depend on it."
  value       = try(google_service_networking_connection.private_services.id, null)
}

output "router_name" {
  description = "Name of the Cloud Router of the Cloud NAT (null when nat_gateway_mode is \"none\")."
  value       = try(google_compute_router.this[0].name, null)
}

output "nat_name" {
  description = "Name of the Cloud NAT (null when nat_gateway_mode is \"none\")."
  value       = try(google_compute_router_nat.this[0].name, null)
}

output "flow_log_bucket_id" {
  description = "ID of the log bucket keeping the VPC flow logs for flow_log_retention_days."
  value       = module.flow_logs.bucket_id
}
