output "repository_urls" {
  description = "URL of each repository (<account>.dkr.ecr.<region>.amazonaws.com/<environment>/<image>), by image name."
  value       = module.ecr.repository_urls
}

output "repository_arns" {
  description = "ARN of each repository, by image name."
  value       = module.ecr.repository_arns
}

output "repository_names" {
  description = "Name of each repository (<environment>/<image>), by image name."
  value       = module.ecr.repository_names
}

output "registry_id" {
  description = "ID of the registry holding the repositories (the environment's account ID)."
  value       = module.ecr.registry_id
}
