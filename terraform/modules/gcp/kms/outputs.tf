output "key_ring_id" {
  description = "ID of the key ring (projects/<project>/locations/<location>/keyRings/<name>)."
  value       = try(google_kms_key_ring.this.id, null)
}

output "key_ids" {
  description = "ID of each crypto key (projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>), by key name: the form Cloud SQL, GKE, Cloud Storage and Cloud Logging take."
  value       = try({ for k, key in google_kms_crypto_key.this : k => key.id }, {})
}

output "key_names" {
  description = "Short name of each crypto key, by key name."
  value       = try({ for k, key in google_kms_crypto_key.this : k => key.name }, {})
}
