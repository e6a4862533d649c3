# Offline tests of the stack's own logic: `terraform init -backend=false && terraform test`.
# The aws provider is mocked; the rds module's tests cover what one instance is
# made of (encryption, storage, backups, tags). These check what the stack
# decides: the shared instance, one dedicated instance per tier C tenant
# listed in tenant_instances (zero, one, and a refused name), and the tenant
# backup bucket's name and outputs (the backups module's tests cover the bucket).

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

  mock_resource "aws_db_instance" {
    defaults = {
      resource_id = "db-ABCDEFGHIJKLMNOPQRSTUVWXY2"
      address     = "test-db.abcdefghijkl.eu-west-1.rds.amazonaws.com"
      endpoint    = "test-db.abcdefghijkl.eu-west-1.rds.amazonaws.com:5432"
      port        = 5432
      master_user_secret = [{
        secret_arn    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf" # pragma: allowlist secret
        kms_key_id    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        secret_status = "active" # pragma: allowlist secret
      }]
    }
  }

  mock_resource "aws_iam_policy" {
    defaults = {
      arn = "arn:aws:iam::123456789012:policy/test-db-connect"
    }
  }
}

# A realistic ARN for the tenant backup bucket (the mock would invent one).
override_resource {
  target = module.tenant_backups.aws_s3_bucket.this
  values = {
    arn = "arn:aws:s3:::bkp-123456789012-eu-west-1-dev"
  }
}

variables {
  environment               = "dev"
  account_id                = "123456789012"
  region                    = "eu-west-1"
  vpc_id                    = "vpc-0a1b2c3d4e5f60000"
  database_subnet_ids       = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
  allowed_cidr_blocks       = ["10.10.0.0/19", "10.10.32.0/19"]
  kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  rpo_minutes               = 60
  engine_version            = "16.4"
  instance_class            = "db.t4g.medium"
  allocated_storage_gib     = 20
  max_allocated_storage_gib = 100
  multi_az                  = false
  deletion_protection       = true
  tags = {
    environment   = "dev"
    service       = "control-plane"
    owner         = "platform"
    "cost-center" = "cc-1234"
  }
}

run "no_tenant_instances" {
  command = apply

  assert {
    condition     = length(module.tenant_rds) == 0 && output.tenant_instances == {}
    error_message = "Without tenant_instances the stack must create no dedicated instance."
  }

  assert {
    condition     = output.db_instance_identifier == "dev-control-plane" && output.backup_retention_days == 14
    error_message = "The shared instance must be <environment>-control-plane with the retention of the RPO (60 min -> 14 days)."
  }

  assert {
    condition     = output.databases == { app = "app", temporal = "temporal", temporal_visibility = "temporal" }
    error_message = "The shared instance must keep the app and Temporal databases."
  }

  assert {
    condition = (
      output.tenant_backup_bucket == "bkp-123456789012-eu-west-1-dev" &&
      output.tenant_backup_bucket_arn == "arn:aws:s3:::${output.tenant_backup_bucket}" &&
      module.tenant_backups.log_bucket_name == "bkp-123456789012-eu-west-1-dev-access-logs"
    )
    error_message = "The tenant backup bucket must be bkp-<account_id>-<region>-<environment> (its log bucket <name>-access-logs), exposed by tenant_backup_bucket and tenant_backup_bucket_arn."
  }
}

run "longest_backup_bucket_name_fits" {
  command = plan

  # The longest environment name the env model allows (16) in the longest AWS
  # region name (15): the backups module refuses a name over 51 characters.
  variables {
    environment = "abcdefghijklmnop"
    region      = "us-isof-south-1"
    kms_key_arn = "arn:aws-iso-f:kms:us-isof-south-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    tags = {
      environment   = "abcdefghijklmnop"
      service       = "control-plane"
      owner         = "platform"
      "cost-center" = "cc-1234"
    }
  }

  assert {
    condition     = output.tenant_backup_bucket == "bkp-123456789012-us-isof-south-1-abcdefghijklmnop" && length(output.tenant_backup_bucket) == 49 # pragma: allowlist secret
    error_message = "The longest tenant backup bucket name must be 49 characters, within the backups module's 51."
  }
}

run "one_tenant_instance" {
  command = apply

  variables {
    tenant_instances = {
      initech = { instance_class = "db.t4g.micro", allocated_storage_gib = 20, max_allocated_storage_gib = 50, multi_az = false }
    }
  }

  assert {
    condition     = keys(module.tenant_rds) == ["initech"] && module.tenant_rds["initech"].db_instance_identifier == "dev-tenant-initech"
    error_message = "A tenant in tenant_instances must get the instance <environment>-tenant-<name>."
  }

  assert {
    condition     = module.tenant_rds["initech"].databases == { tenant_initech = "tenant_initech" }
    error_message = "The dedicated instance must hold one database, tenant_<name>, owned by the role of that name."
  }

  assert {
    condition     = strcontains(module.tenant_rds["initech"].database_bootstrap_sql, "CREATE DATABASE \"tenant_initech\" OWNER \"tenant_initech\"")
    error_message = "The dedicated instance's bootstrap SQL must create the tenant's database and owner."
  }

  assert {
    condition     = keys(module.tenant_rds["initech"].connect_policy_arns) == ["tenant_initech"]
    error_message = "The tenant's role must get its own rds-db:connect policy (and only it)."
  }

  assert {
    condition = output.tenant_instances == {
      initech = {
        identifier             = "dev-tenant-initech"
        endpoint               = "test-db.abcdefghijkl.eu-west-1.rds.amazonaws.com:5432"
        address                = "test-db.abcdefghijkl.eu-west-1.rds.amazonaws.com"
        port                   = 5432
        database               = "tenant_initech"
        master_user_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf" # pragma: allowlist secret
      }
    }
    error_message = "tenant_instances must give each dedicated instance's identifier, endpoint, address, port, database and master secret ARN."
  }

  assert {
    condition     = output.db_instance_identifier == "dev-control-plane" && length(output.databases) == 3
    error_message = "A dedicated tenant instance must leave the shared instance as it is."
  }
}

run "hyphenated_tenant_name" {
  command = plan

  variables {
    tenant_instances = {
      big-co = { instance_class = "db.t4g.micro", allocated_storage_gib = 20, max_allocated_storage_gib = 20, multi_az = true }
    }
  }

  assert {
    condition     = module.tenant_rds["big-co"].databases == { tenant_big_co = "tenant_big_co" }
    error_message = "A hyphen in the tenant name must become an underscore in its database and role name."
  }
}

run "invalid_tenant_name" {
  command = plan

  variables {
    tenant_instances = {
      "Acme--1" = { instance_class = "db.t4g.micro", allocated_storage_gib = 20, max_allocated_storage_gib = 20, multi_az = false }
    }
  }

  expect_failures = [var.tenant_instances]
}
