################################################################################
# IAM database authentication: one connect policy per database owner
################################################################################

data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # Each distinct owner is one PostgreSQL login role and one IAM policy.
  owners = toset([for db in values(var.databases) : db.owner])

  # rds-db:connect for exactly one database user of this instance. The
  # resource uses the instance's DbiResourceId, not its identifier, so a
  # re-created instance with the same name does not inherit the grant.
  connect_policy_json = {
    for owner in local.owners : owner => jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid      = "ConnectAs${replace(title(replace(owner, "_", " ")), " ", "")}"
        Effect   = "Allow"
        Action   = "rds-db:connect"
        Resource = "arn:${data.aws_partition.current.partition}:rds-db:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:dbuser:${aws_db_instance.this.resource_id}/${owner}"
      }]
    })
  }
}

# Attach these to the workload roles (e.g. IRSA roles of the app and Temporal).
resource "aws_iam_policy" "connect" {
  for_each = local.owners

  name        = "${var.identifier}-connect-${each.key}"
  description = "Connect to the ${var.identifier} PostgreSQL instance as database user ${each.key} with an IAM token."
  policy      = local.connect_policy_json[each.key]

  tags = merge(var.tags, { Name = "${var.identifier}-connect-${each.key}" })
}
