# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked, so apply runs finish in seconds and IDs are
# random strings; the assertions check what the module decides, not AWS.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  # Computed attributes the module passes on: give them realistic shapes.
  mock_resource "aws_db_instance" {
    defaults = {
      resource_id = "db-ABCDEFGHIJKLMNOPQRSTUVWXY2"
      address     = "test-db.abcdefghijkl.eu-west-1.rds.amazonaws.com"
      endpoint    = "test-db.abcdefghijkl.eu-west-1.rds.amazonaws.com:5432"
      master_user_secret = [{
        secret_arn    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf"
        kms_key_id    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        secret_status = "active"
      }]
    }
  }

  mock_resource "aws_iam_policy" {
    defaults = {
      arn = "arn:aws:iam::123456789012:policy/test-db-connect"
    }
  }
}

variables {
  identifier                = "test-db"
  engine_version            = "16.4"
  instance_class            = "db.t4g.medium"
  allocated_storage_gib     = 20
  max_allocated_storage_gib = 100
  kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  subnet_ids                = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
  vpc_id                    = "vpc-0a1b2c3d4e5f60000"
  allowed_cidr_blocks       = ["10.10.0.0/19", "10.10.32.0/19"]
  tags = {
    environment   = "test"
    owner         = "platform"
    "cost-center" = "cc-1234"
  }
}

################################################################################
# Defaults: protected, Multi-AZ, 7 days of backups, three databases
################################################################################

run "secure_defaults" {
  command = apply

  assert {
    condition     = aws_db_instance.this.engine == "postgres" && aws_db_instance.this.engine_version == "16.4" && aws_db_instance.this.instance_class == "db.t4g.medium" && aws_db_instance.this.port == 5432
    error_message = "The instance must be PostgreSQL at var.engine_version on port 5432."
  }

  assert {
    condition     = aws_db_instance.this.storage_encrypted && aws_db_instance.this.kms_key_id == var.kms_key_arn && aws_db_instance.this.storage_type == "gp3"
    error_message = "Storage must be gp3 and encrypted with the customer-managed key."
  }

  assert {
    condition     = aws_db_instance.this.allocated_storage == 20 && aws_db_instance.this.max_allocated_storage == 100
    error_message = "Storage must start at allocated_storage_gib and autoscale up to max_allocated_storage_gib."
  }

  assert {
    condition     = aws_db_instance.this.publicly_accessible == false
    error_message = "The instance must not be publicly accessible."
  }

  assert {
    condition     = aws_db_instance.this.iam_database_authentication_enabled
    error_message = "IAM database authentication must be on."
  }

  assert {
    condition = (
      aws_db_instance.this.manage_master_user_password == true &&
      aws_db_instance.this.master_user_secret_kms_key_id == var.kms_key_arn &&
      aws_db_instance.this.password == null &&
      aws_db_instance.this.username == "dbadmin"
    )
    error_message = "The master password must be managed by RDS in Secrets Manager (CMK-encrypted), never passed as an argument."
  }

  assert {
    condition     = output.master_user_secret_arn == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf"
    error_message = "master_user_secret_arn must expose the ARN of the managed secret."
  }

  assert {
    condition = (
      aws_db_parameter_group.this.family == "postgres16" &&
      contains([for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"], "rds.force_ssl=1") &&
      contains([for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"], "log_min_duration_statement=1000") &&
      aws_db_instance.this.parameter_group_name == aws_db_parameter_group.this.name
    )
    error_message = "The instance must use a postgres16 parameter group that forces TLS and logs slow statements."
  }

  assert {
    condition     = aws_db_instance.this.ca_cert_identifier == "rds-ca-rsa2048-g1"
    error_message = "The server certificate must come from rds-ca-rsa2048-g1."
  }

  assert {
    condition = (
      aws_db_instance.this.deletion_protection == true &&
      aws_db_instance.this.skip_final_snapshot == false &&
      aws_db_instance.this.final_snapshot_identifier == "test-db-final" &&
      aws_db_instance.this.delete_automated_backups == false
    )
    error_message = "By default the instance must be deletion protected, take the final snapshot <identifier>-final and keep its automated backups."
  }

  assert {
    condition     = aws_db_instance.this.backup_retention_period == 7 && aws_db_instance.this.copy_tags_to_snapshot
    error_message = "Automated backups (PITR) must default to 7 days and snapshots must carry the tags."
  }

  assert {
    condition = (
      aws_db_instance.this.performance_insights_enabled &&
      aws_db_instance.this.performance_insights_kms_key_id == var.kms_key_arn &&
      aws_db_instance.this.performance_insights_retention_period == 7 &&
      aws_db_instance.this.monitoring_interval == 0
    )
    error_message = "Performance Insights must be on with the CMK and 7 days retention; Enhanced Monitoring off."
  }

  assert {
    condition = (
      aws_db_instance.this.multi_az &&
      aws_db_instance.this.auto_minor_version_upgrade &&
      aws_db_instance.this.allow_major_version_upgrade == false &&
      aws_db_instance.this.apply_immediately == false &&
      aws_db_instance.this.enabled_cloudwatch_logs_exports == toset(["postgresql", "upgrade"])
    )
    error_message = "Multi-AZ by default, minor upgrades only, changes in the maintenance window, postgresql and upgrade logs exported."
  }

  assert {
    condition = (
      aws_db_subnet_group.this.subnet_ids == toset(var.subnet_ids) &&
      aws_db_instance.this.db_subnet_group_name == aws_db_subnet_group.this.name &&
      aws_db_instance.this.vpc_security_group_ids == toset([aws_security_group.this.id])
    )
    error_message = "The instance must sit in the module's subnet group behind the module's security group only."
  }

  assert {
    condition = (
      aws_security_group.this.vpc_id == var.vpc_id &&
      length(aws_security_group.this.ingress) == 0 && length(aws_security_group.this.egress) == 0 &&
      toset(keys(aws_vpc_security_group_ingress_rule.postgres)) == toset(var.allowed_cidr_blocks) &&
      alltrue([
        for cidr, r in aws_vpc_security_group_ingress_rule.postgres :
        r.security_group_id == aws_security_group.this.id && r.cidr_ipv4 == cidr && r.ip_protocol == "tcp" && r.from_port == 5432 && r.to_port == 5432
      ])
    )
    error_message = "Ingress must be TCP 5432 from each allowed CIDR block only, with no inline or egress rules."
  }

  assert {
    condition     = keys(aws_iam_policy.connect) == ["app", "temporal"] && aws_iam_policy.connect["temporal"].name == "test-db-connect-temporal"
    error_message = "There must be one connect policy per distinct owner, named <identifier>-connect-<owner>."
  }

  assert {
    condition = alltrue([
      for owner, p in aws_iam_policy.connect :
      length(jsondecode(p.policy).Statement) == 1 &&
      jsondecode(p.policy).Statement[0].Effect == "Allow" &&
      jsondecode(p.policy).Statement[0].Action == "rds-db:connect" &&
      jsondecode(p.policy).Statement[0].Resource == "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY2/${owner}" &&
      p.policy == output.iam_connect_policy_json[owner]
    ])
    error_message = "Each connect policy must allow exactly rds-db:connect for its own database user of this instance."
  }

  assert {
    condition = (
      output.databases == { app = "app", temporal = "temporal", temporal_visibility = "temporal" } &&
      keys(output.connect_policy_arns) == ["app", "temporal"] &&
      output.dbi_resource_id == "db-ABCDEFGHIJKLMNOPQRSTUVWXY2" &&
      output.endpoint == "test-db.abcdefghijkl.eu-west-1.rds.amazonaws.com:5432" &&
      output.port == 5432 &&
      output.security_group_id == aws_security_group.this.id &&
      output.db_instance_identifier == "test-db"
    )
    error_message = "Outputs must expose the databases, policies and connection details."
  }

  assert {
    condition = alltrue([
      for s in [
        "CREATE ROLE \"app\" LOGIN;",
        "CREATE ROLE \"temporal\" LOGIN;",
        "WHERE rolname = 'temporal'",
        "SELECT 'CREATE DATABASE \"temporal_visibility\" OWNER \"temporal\"'",
        "WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'app')\n\\gexec",
        "GRANT rds_iam TO \"app\";",
        "GRANT rds_iam TO \"temporal\";",
        "REVOKE \"temporal\" FROM CURRENT_USER;",
        "REVOKE ALL ON DATABASE \"temporal\" FROM PUBLIC;",
        "\\set ON_ERROR_STOP on",
      ] : strcontains(output.database_bootstrap_sql, s)
    ])
    error_message = "The bootstrap SQL must create each owner role, grant rds_iam and create each database idempotently."
  }

  assert {
    condition     = length(regexall("CREATE ROLE", output.database_bootstrap_sql)) == 2 && length(regexall("GRANT rds_iam", output.database_bootstrap_sql)) == 2 && length(regexall("\\\\gexec\n", output.database_bootstrap_sql)) == 3
    error_message = "Each owner must be created and granted rds_iam once, each database created once."
  }

  assert {
    condition     = !strcontains(output.database_bootstrap_sql, "PASSWORD")
    error_message = "The bootstrap SQL must not set any password."
  }

  assert {
    condition = alltrue([
      for t in concat(
        [aws_db_instance.this.tags, aws_db_subnet_group.this.tags, aws_security_group.this.tags, aws_db_parameter_group.this.tags],
        [for r in values(aws_vpc_security_group_ingress_rule.postgres) : r.tags], [for p in values(aws_iam_policy.connect) : p.tags],
      ) : lookup(t, "environment", null) == "test" && lookup(t, "cost-center", null) == "cc-1234" && startswith(lookup(t, "Name", ""), "test-db")
    ])
    error_message = "var.tags must be merged onto every taggable resource, next to a Name tag."
  }
}

################################################################################
# Unprotected (dev-like): no final snapshot, single AZ, no autoscaling
################################################################################

run "unprotected_single_az" {
  command = apply

  variables {
    deletion_protection       = false
    multi_az                  = false
    backup_retention_days     = 1
    max_allocated_storage_gib = 20
  }

  assert {
    condition = (
      aws_db_instance.this.deletion_protection == false &&
      aws_db_instance.this.skip_final_snapshot == true &&
      aws_db_instance.this.final_snapshot_identifier == null &&
      aws_db_instance.this.delete_automated_backups == true
    )
    error_message = "Without deletion protection the instance is deleted without a final snapshot."
  }

  assert {
    condition     = aws_db_instance.this.multi_az == false && aws_db_instance.this.backup_retention_period == 1
    error_message = "multi_az and backup_retention_days must reach the instance."
  }

  assert {
    condition     = aws_db_instance.this.max_allocated_storage == 0 && aws_db_instance.this.allocated_storage == 20
    error_message = "A ceiling equal to the allocation must switch storage autoscaling off (0)."
  }

  assert {
    condition     = aws_db_instance.this.storage_encrypted && aws_db_instance.this.publicly_accessible == false && aws_db_instance.this.iam_database_authentication_enabled
    error_message = "Encryption, privacy and IAM auth do not depend on deletion protection."
  }
}

################################################################################
# Backup retention as the data stack sizes it from the RPO (see its README):
# rpo <= 15 min -> 35 days, <= 60 -> 14 days, otherwise 7 days.
################################################################################

run "retention_for_rpo_15" {
  command = plan

  variables {
    backup_retention_days = 35
  }

  assert {
    condition     = aws_db_instance.this.backup_retention_period == 35
    error_message = "35 days (the AWS maximum) must reach the instance."
  }
}

run "retention_for_rpo_60" {
  command = plan

  variables {
    backup_retention_days = 14
  }

  assert {
    condition     = aws_db_instance.this.backup_retention_period == 14
    error_message = "14 days must reach the instance."
  }
}

################################################################################
# Custom databases
################################################################################

run "custom_databases" {
  command = apply

  variables {
    databases = {
      billing = { owner = "billing_svc" }
    }
    db_name = "billing"
  }

  assert {
    condition     = aws_db_instance.this.db_name == "billing"
    error_message = "db_name must be the database RDS creates with the instance."
  }

  assert {
    condition     = keys(aws_iam_policy.connect) == ["billing_svc"] && output.databases == { billing = "billing_svc" }
    error_message = "Only the declared owner gets a connect policy."
  }

  assert {
    condition     = strcontains(output.database_bootstrap_sql, "CREATE DATABASE \"billing\" OWNER \"billing_svc\"") && !strcontains(output.database_bootstrap_sql, "temporal")
    error_message = "The bootstrap SQL must follow var.databases."
  }

  assert {
    condition     = jsondecode(aws_iam_policy.connect["billing_svc"].policy).Statement[0].Sid == "ConnectAsBillingSvc"
    error_message = "Statement IDs must be alphanumeric."
  }
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_db_name_not_a_database" {
  command = plan

  variables {
    db_name = "billing"
  }

  expect_failures = [var.db_name]
}

run "invalid_engine_version_15" {
  command = plan
  variables {
    engine_version = "15.7"
  }
  expect_failures = [var.engine_version]
}

run "invalid_engine_version_major_only" {
  command = plan
  variables {
    engine_version = "16"
  }
  expect_failures = [var.engine_version]
}

run "invalid_max_below_allocated" {
  command = plan
  variables {
    allocated_storage_gib     = 100
    max_allocated_storage_gib = 50
  }
  expect_failures = [var.max_allocated_storage_gib]
}

run "invalid_allocated_storage_too_small" {
  command = plan
  variables {
    allocated_storage_gib = 10
  }
  expect_failures = [var.allocated_storage_gib]
}

run "invalid_one_subnet" {
  command = plan
  variables {
    subnet_ids = ["subnet-0a1b2c3d4e5f60001"]
  }
  expect_failures = [var.subnet_ids]
}

run "invalid_duplicate_subnets" {
  command = plan
  variables {
    subnet_ids = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60001"]
  }
  expect_failures = [var.subnet_ids]
}

run "invalid_cidr_whole_internet" {
  command = plan
  variables {
    allowed_cidr_blocks = ["10.10.0.0/19", "0.0.0.0/0"]
  }
  expect_failures = [var.allowed_cidr_blocks]
}

run "invalid_cidr_empty" {
  command = plan
  variables {
    allowed_cidr_blocks = []
  }
  expect_failures = [var.allowed_cidr_blocks]
}

run "invalid_cidr_not_a_cidr" {
  command = plan
  variables {
    allowed_cidr_blocks = ["10.10.0.1"]
  }
  expect_failures = [var.allowed_cidr_blocks]
}

run "invalid_retention_0" {
  command = plan
  variables {
    backup_retention_days = 0
  }
  expect_failures = [var.backup_retention_days]
}

run "invalid_retention_36" {
  command = plan
  variables {
    backup_retention_days = 36
  }
  expect_failures = [var.backup_retention_days]
}

run "invalid_instance_class" {
  command = plan
  variables {
    instance_class = "t4g.medium"
  }
  expect_failures = [var.instance_class]
}

run "invalid_kms_key_alias" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/database"
  }
  expect_failures = [var.kms_key_arn]
}

run "invalid_identifier_uppercase" {
  command = plan
  variables {
    identifier = "Test-DB"
  }
  expect_failures = [var.identifier]
}

run "invalid_identifier_double_hyphen" {
  command = plan
  variables {
    identifier = "test--db"
  }
  expect_failures = [var.identifier]
}

run "invalid_vpc_id" {
  command = plan
  variables {
    vpc_id = "my-vpc"
  }
  expect_failures = [var.vpc_id]
}

run "invalid_database_reserved_name" {
  command = plan
  variables {
    databases = { postgres = { owner = "app" } }
  }
  expect_failures = [var.databases]
}

run "invalid_database_owner_reserved" {
  command = plan
  variables {
    databases = { app = { owner = "rds_superuser" } }
  }
  expect_failures = [var.databases]
}

run "invalid_database_name_quote" {
  command = plan
  variables {
    databases = { "app'; DROP" = { owner = "app" } }
  }
  expect_failures = [var.databases]
}

run "invalid_tags_aws_prefix" {
  command = plan
  variables {
    tags = { "aws:cloudformation:stack-name" = "x" }
  }
  expect_failures = [var.tags]
}
