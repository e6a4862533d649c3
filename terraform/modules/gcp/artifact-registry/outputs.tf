output "repository_id" {
  description = "ID of the repository (projects/<project>/locations/<location>/repositories/<repository_id>)."
  value       = try(google_artifact_registry_repository.this.id, null)
}

output "repository_urls" {
  description = "Where to push and pull each image (<location>-docker.pkg.dev/<project>/<repository_id>/<image>), by image name."
  value       = { for image in var.repositories : image => "${var.location}-docker.pkg.dev/${var.project_id}/${var.repository_id}/${image}" }
}

output "service_agent_email" {
  description = "The Artifact Registry service agent that holds the key."
  value       = try(google_project_service_identity.artifactregistry.email, null)
}
