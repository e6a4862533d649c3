output "repository_urls" {
  description = "Where to push and pull each image (<region>-docker.pkg.dev/<project>/<environment>/<image>), by image name."
  value       = module.registry.repository_urls
}

output "registry_id" {
  description = "ID of the Artifact Registry repository (projects/<project>/locations/<region>/repositories/<environment>)."
  value       = module.registry.repository_id
}

output "service_agent_email" {
  description = "The Artifact Registry service agent granted the registry key."
  value       = module.registry.service_agent_email
}
