locals {
  # Bucket names are global: account, region and environment make them unique.
  bucket_name         = "infractl-evidence-${var.account_id}-${var.region}-${var.environment}"
  replica_bucket_name = "infractl-evidence-${var.account_id}-${var.dr_region}-${var.environment}"

  # The longest window KMS allows: losing an evidence key loses the evidence.
  kms_deletion_window_days = 30
}

################################################################################
# Keys: one per region, usable by IAM principals only through S3
################################################################################

module "kms" {
  source = "../../../modules/aws/kms"

  name                 = var.environment
  deletion_window_days = local.kms_deletion_window_days

  keys = {
    evidence = {
      description  = "${var.environment}: WORM audit evidence bucket (S3 SSE-KMS)"
      via_services = ["s3.${var.region}.amazonaws.com"]
    }
  }

  tags = { stack = "evidence" }
}

module "kms_dr" {
  source = "../../../modules/aws/kms"
  providers = {
    aws = aws.dr
  }

  name                 = var.environment
  deletion_window_days = local.kms_deletion_window_days

  keys = {
    evidence-replica = {
      description  = "${var.environment}: replica of the WORM audit evidence bucket in ${var.dr_region} (S3 SSE-KMS)"
      via_services = ["s3.${var.dr_region}.amazonaws.com"]
    }
  }

  tags = { stack = "evidence" }
}

################################################################################
# Buckets: the locked replica in the DR region, then the locked primary that
# replicates every object to it
################################################################################

module "evidence_replica" {
  source = "../../../modules/aws/evidence"
  providers = {
    aws = aws.dr
  }

  name             = local.replica_bucket_name
  kms_key_arn      = module.kms_dr.key_arns["evidence-replica"]
  retention_days   = var.retention_days
  object_lock_mode = var.object_lock_mode

  tags = { stack = "evidence", role = "replica" }
}

module "evidence" {
  source = "../../../modules/aws/evidence"

  name             = local.bucket_name
  kms_key_arn      = module.kms.key_arns["evidence"]
  retention_days   = var.retention_days
  object_lock_mode = var.object_lock_mode

  replication_enabled = true
  replica_bucket_arn  = module.evidence_replica.bucket_arn
  replica_kms_key_arn = module.kms_dr.key_arns["evidence-replica"]

  # Environment, service, owner and cost-center come from default_tags.
  tags = { stack = "evidence", role = "primary" }
}
