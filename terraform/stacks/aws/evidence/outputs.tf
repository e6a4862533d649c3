output "bucket_name" {
  description = "Name of the WORM evidence bucket (primary region)."
  value       = module.evidence.bucket_name
}

output "bucket_arn" {
  description = "ARN of the WORM evidence bucket (primary region)."
  value       = module.evidence.bucket_arn
}

output "key_id" {
  description = "ARN of the KMS key encrypting the evidence bucket; writers need kms:GenerateDataKey on it (through S3)."
  value       = module.kms.key_arns["evidence"]
}

output "log_bucket_name" {
  description = "Name of the bucket receiving the evidence bucket's S3 server access logs."
  value       = module.evidence.log_bucket_name
}

output "replica_bucket_name" {
  description = "Name of the locked replica bucket in the DR region."
  value       = module.evidence_replica.bucket_name
}

output "replica_bucket_arn" {
  description = "ARN of the locked replica bucket in the DR region."
  value       = module.evidence_replica.bucket_arn
}

output "replica_key_id" {
  description = "ARN of the KMS key (DR region) encrypting the replicas."
  value       = module.kms_dr.key_arns["evidence-replica"]
}

output "replica_log_bucket_name" {
  description = "Name of the bucket receiving the replica bucket's S3 server access logs (DR region)."
  value       = module.evidence_replica.log_bucket_name
}

output "replication_role_arn" {
  description = "ARN of the IAM role S3 uses to replicate the evidence bucket to the replica."
  value       = module.evidence.replication_role_arn
}
