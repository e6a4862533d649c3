locals {
  # One IAM member binding per (key, member): service agents that use the key
  # themselves (e.g. Cloud Storage for a bucket's default encryption).
  encrypter_decrypters = merge([
    for key, spec in var.keys : {
      for label, member in spec.encrypter_decrypters : "${key}/${label}" => { key = key, member = member }
    }
  ]...)
}

# Key rings (and keys) cannot be deleted in GCP: destroying this resource only
# removes it from the state, and the name stays taken in the location.
resource "google_kms_key_ring" "this" {
  name     = var.name
  location = var.location
}

resource "google_kms_crypto_key" "this" {
  for_each = var.keys

  name     = each.key
  key_ring = google_kms_key_ring.this.id
  purpose  = "ENCRYPT_DECRYPT"

  # Automatic rotation: a new primary version every rotation_period (90 days
  # by default).
  rotation_period = var.rotation_period

  # A destroyed version waits deletion_window_days in DESTROY_SCHEDULED and can
  # be restored until then (the deletion window).
  destroy_scheduled_duration = "${var.deletion_window_days * 86400}s"

  version_template {
    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"
    protection_level = var.protection_level
  }

  labels = merge(var.labels, { purpose = each.key })

  # Destroying a crypto key destroys all its versions: whatever they encrypted
  # (state, databases, secrets, logs, evidence) becomes unreadable. Removing a
  # key takes an explicit change of this module, never a plain destroy.
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "encrypter_decrypter" {
  for_each = local.encrypter_decrypters

  crypto_key_id = google_kms_crypto_key.this[each.value.key].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value.member
}
