output "network_id" {
  description = "ID of the VPC network (projects/<project>/global/networks/<environment>)."
  value       = module.network.network_id
}

output "network_cidr" {
  description = "IPv4 address space of the network."
  value       = module.network.network_cidr
}

output "private_subnet_ids" {
  description = "ID of the private subnet, as a one-element list: GCP subnets are regional, one spans every zone."
  value       = [module.network.private_subnet_id]
}

output "private_subnet_cidrs" {
  description = "Primary range of the private subnet (the nodes), as a one-element list; pods use pods_cidr. Cloud SQL admits the whole network over private services access, not a CIDR list."
  value       = [module.network.private_subnet_cidr]
}

output "zones" {
  description = "The first az_count zones of the region in name order: the cluster's node locations."
  value       = local.zones
}

output "pods_range_name" {
  description = "Name of the private subnet's secondary range for GKE pods."
  value       = module.network.pods_range_name
}

output "pods_cidr" {
  description = "Secondary range of the GKE pods."
  value       = module.network.pods_cidr
}

output "services_range_name" {
  description = "Name of the private subnet's secondary range for GKE services."
  value       = module.network.services_range_name
}

output "services_cidr" {
  description = "Secondary range of the GKE services."
  value       = module.network.services_cidr
}

output "private_services_cidr" {
  description = "Range reserved for private services access (Cloud SQL private addresses)."
  value       = module.network.private_services_cidr
}

output "nat_name" {
  description = "Name of the Cloud NAT (null when nat_gateway_mode is \"none\")."
  value       = module.network.nat_name
}

output "flow_log_bucket_id" {
  description = "ID of the log bucket keeping the VPC flow logs for flow_log_retention_days."
  value       = module.network.flow_log_bucket_id
}
