output "repository_urls" {
  description = "URL of each repository (<registry>.dkr.ecr.<region>.amazonaws.com/<name_prefix>/<image>), by image name."
  value       = try({ for image, repo in aws_ecr_repository.this : image => repo.repository_url }, {})
}

output "repository_arns" {
  description = "ARN of each repository, by image name."
  value       = try({ for image, repo in aws_ecr_repository.this : image => repo.arn }, {})
}

output "repository_names" {
  description = "Name of each repository (<name_prefix>/<image>), by image name."
  value       = try({ for image, repo in aws_ecr_repository.this : image => repo.name }, {})
}

output "registry_id" {
  description = "ID of the registry holding the repositories (the account ID)."
  value       = try(values(aws_ecr_repository.this)[0].registry_id, null)
}
