# One customer-managed key per purpose. The key policies keep administration
# with the account's IAM and name who may use each key (see README).
module "kms" {
  source = "../../../modules/aws/kms"

  name                 = var.environment
  deletion_window_days = var.deletion_window_days

  keys = {
    # Terraform remote state: the state bucket's default SSE-KMS key. IAM
    # principals (CI roles, operators) may use it only through S3.
    state = {
      description  = "${var.environment}: Terraform remote state (S3 state bucket default encryption)"
      via_services = ["s3.${var.region}.amazonaws.com"]
    }

    # RDS storage, snapshots and Performance Insights, the RDS-managed master
    # password secret in Secrets Manager, and the tenant backups in S3 (the
    # data stack's tenant backup bucket, SSE-KMS): usable only through them.
    database = {
      description  = "${var.environment}: RDS storage, snapshots, the Secrets Manager master password and tenant backups in S3"
      via_services = ["rds.${var.region}.amazonaws.com", "secretsmanager.${var.region}.amazonaws.com", "s3.${var.region}.amazonaws.com"]
    }

    # EKS envelope encryption of Kubernetes secrets. The cluster's IAM role is
    # created by the cluster stack (after this one), so its use is granted
    # there through IAM, which this key's standard IAM statement delegates to.
    cluster = {
      description = "${var.environment}: EKS envelope encryption of Kubernetes secrets"
    }

    # CloudWatch Logs (VPC flow logs, EKS control-plane logs): the regional
    # CloudWatch Logs principal may use it for log groups of this account only;
    # IAM principals only through CloudWatch Logs.
    logs = {
      description        = "${var.environment}: CloudWatch Logs log groups (VPC flow logs, EKS control-plane logs)"
      service_principals = ["logs.${var.region}.amazonaws.com"]
      via_services       = ["logs.${var.region}.amazonaws.com"]
    }

    # ECR images (registry stack): the account's principals may use it only
    # through ECR, which holds a grant per repository to encrypt and decrypt
    # layers; a pull from another account is decrypted by ECR through that
    # grant and needs no key permission of its own.
    registry = {
      description  = "${var.environment}: ECR container images (registry stack)"
      via_services = ["ecr.${var.region}.amazonaws.com"]
    }
  }

  # Environment, service, owner and cost-center come from default_tags.
  tags = { stack = "kms" }
}
