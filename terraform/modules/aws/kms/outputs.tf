output "key_arns" {
  description = "ARN of each key, by key name. Use these (not alias ARNs) where a service needs a key ARN, e.g. CloudWatch Logs."
  value       = try({ for k, key in aws_kms_key.this : k => key.arn }, {})
}

output "key_ids" {
  description = "ID of each key, by key name."
  value       = try({ for k, key in aws_kms_key.this : k => key.key_id }, {})
}

output "alias_names" {
  description = "Alias of each key (alias/<name>-<key>), by key name."
  value       = try({ for k, alias in aws_kms_alias.this : k => alias.name }, {})
}

output "alias_arns" {
  description = "ARN of each key's alias, by key name."
  value       = try({ for k, alias in aws_kms_alias.this : k => alias.arn }, {})
}
