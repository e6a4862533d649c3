output "bucket_name" {
  description = "Name of the WORM evidence bucket (primary region)."
  value       = module.evidence.bucket_name
}

output "bucket_url" {
  description = "gs:// URL of the evidence bucket."
  value       = module.evidence.bucket_url
}

output "key_id" {
  description = "Crypto key ID encrypting the evidence bucket; writers need no key permission (Cloud Storage encrypts)."
  value       = module.kms.key_ids["evidence"]
}

output "replica_bucket_name" {
  description = "Name of the locked replica bucket in the DR region."
  value       = module.evidence_replica.bucket_name
}

output "replica_key_id" {
  description = "Crypto key ID (DR region) encrypting the replica bucket."
  value       = module.kms_dr.key_ids["evidence-replica"]
}

output "replication_job_name" {
  description = "Name of the Storage Transfer Service job replicating the evidence bucket to the replica."
  value       = module.evidence.replication_job_name
}

output "access_log_bucket_id" {
  description = "ID of the log bucket keeping both buckets' audit (access) logs."
  value       = module.access_logs.log_bucket_id
}
