"""The moto gaps that infractl patches, end to end: Terraform applies, plans clean and destroys a configuration that
meets every one of them (docs/emulator.md, "Fidelity patches").

On stock moto this configuration hangs (budgets, the second DB instance, the bucket teardown) or plans changes
(parameter group, Performance Insights, node group, launch template, replication). Every Terraform run has a
timeout, so a regressed patch fails the test instead of hanging it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infractl.adapters import emulator, process, terraform
from infractl.services.stacks.workspace import emulator_override
from tests.integration.conftest import aws, emulator_requests

REGION = "eu-west-1"
STATE_BUCKET = "fidelity-tfstate"

CONFIG = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = { env = "fidelity", owner = "platform" }
  }
}

# --- Budgets: DescribeSubscribersForNotification, tags
resource "aws_budgets_budget" "monthly" {
  name         = "fidelity-monthly"
  budget_type  = "COST"
  limit_amount = "100"
  limit_unit   = "USD"
  time_unit    = "MONTHLY"
  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 80
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_email_addresses = ["ops@example.com"]
  }
}

# --- RDS: two instances (DbiResourceId), Source=user, Performance Insights
resource "aws_kms_key" "k" {
  description = "fidelity"
}

resource "aws_db_parameter_group" "pg" {
  name   = "fidelity-pg16"
  family = "postgres16"
  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }
  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }
}

resource "aws_db_instance" "db" {
  for_each                              = toset(["a", "b"])
  identifier                            = "fidelity-${each.key}"
  engine                                = "postgres"
  engine_version                        = "16.3"
  instance_class                        = "db.t4g.micro"
  allocated_storage                     = 20
  username                              = "app"
  password                              = "fidelity-password-1"
  parameter_group_name                  = aws_db_parameter_group.pg.name
  skip_final_snapshot                   = true
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.k.arn
  performance_insights_retention_period = 7
}

# --- EKS: node group without remote access, one OIDC provider per cluster; launch template with default_tags
resource "aws_vpc" "v" {
  cidr_block = "10.77.0.0/16"
}

resource "aws_subnet" "s" {
  for_each          = { a = "10.77.1.0/24", b = "10.77.2.0/24" }
  vpc_id            = aws_vpc.v.id
  cidr_block        = each.value
  availability_zone = "eu-west-1${each.key}"
}

resource "aws_iam_role" "eks" {
  name = "fidelity-eks"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = ["eks.amazonaws.com", "ec2.amazonaws.com"] }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_eks_cluster" "c" {
  for_each = toset(["fidelity-one", "fidelity-two"])
  name     = each.key
  role_arn = aws_iam_role.eks.arn
  version  = "1.30"
  vpc_config {
    subnet_ids = [for s in aws_subnet.s : s.id]
  }
}

resource "aws_iam_openid_connect_provider" "oidc" {
  for_each        = aws_eks_cluster.c
  url             = each.value.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
}

resource "aws_launch_template" "nodes" {
  name_prefix   = "fidelity-nodes-"
  image_id      = "ami-12c6146b"
  instance_type = "t3.medium"
  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "node" }
  }
  update_default_version = true
}

resource "aws_eks_node_group" "ng" {
  cluster_name    = aws_eks_cluster.c["fidelity-one"].name
  node_group_name = "default"
  node_role_arn   = aws_iam_role.eks.arn
  subnet_ids      = [for s in aws_subnet.s : s.id]
  instance_types  = ["t3.large"]
  scaling_config {
    desired_size = 1
    max_size     = 2
    min_size     = 1
  }
}

# --- S3: replication echo; a versioned bucket that will hold delete markers at destroy
resource "aws_s3_bucket" "b" {
  for_each      = toset(["fidelity-src", "fidelity-dst", "fidelity-tfstate"])
  bucket        = each.key
  force_destroy = true
}

resource "aws_s3_bucket_versioning" "b" {
  for_each = aws_s3_bucket.b
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_replication_configuration" "r" {
  depends_on = [aws_s3_bucket_versioning.b]
  role       = aws_iam_role.eks.arn
  bucket     = aws_s3_bucket.b["fidelity-src"].id
  rule {
    id     = "logs"
    status = "Enabled"
    filter {
      prefix = "logs/"
    }
    delete_marker_replication {
      status = "Enabled"
    }
    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
      replica_modifications {
        status = "Enabled"
      }
    }
    destination {
      bucket        = aws_s3_bucket.b["fidelity-dst"].arn
      storage_class = "STANDARD_IA"
      encryption_configuration {
        replica_kms_key_id = aws_kms_key.k.arn
      }
    }
  }
  rule {
    id       = "tagged"
    priority = 2
    status   = "Enabled"
    filter {
      and {
        prefix = "data/"
        tags   = { a = "1", b = "2" }
      }
    }
    delete_marker_replication {
      status = "Disabled"
    }
    destination {
      bucket = aws_s3_bucket.b["fidelity-dst"].arn
    }
  }
}
"""


def _terraform(folder: Path, env: dict[str, str], *args: str, timeout: float, ok: tuple[int, ...] = (0,)) -> str:
    argv = [terraform.find_binary("terraform"), f"-chdir={folder}", *args, "-no-color", "-input=false"]
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"terraform {args[0]} did not finish within {timeout:.0f} s (a moto gap hangs?)\n{out[-4000:]}")
    assert done.returncode in ok, f"terraform {args[0]} exited {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr}"
    return done.stdout + done.stderr


def _stack(
    emulated: Path, mirror: str, tmp_path: Path, config: str, aliases: list[str | None] | None = None
) -> tuple[Path, dict[str, str]]:
    """A root module with `config` and the emulator override infractl writes, and Terraform's environment for it."""
    state = emulator.status(emulated / "emulator")
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "main.tf").write_text(config)
    (folder / "zz_infractl_emulator_override.tf").write_text(emulator_override(aliases or [None], state.url))
    (tmp_path / "terraformrc").write_text(terraform.cli_config_text(mirror=Path(mirror), plugin_cache=None))
    env = terraform.child_env(
        process.clean_env(),
        cli_config=tmp_path / "terraformrc",
        data_dir=tmp_path / "data",
        extra={"SSL_CERT_FILE": state.ca_file, "AWS_CA_BUNDLE": state.ca_file},
        drop_prefixes=("AWS_",),
    )
    return folder, env


def test_gaps_apply_plan_clean_and_destroy(emulated, mirror, tmp_path):
    folder, env = _stack(emulated, mirror, tmp_path, CONFIG)

    _terraform(folder, env, "init", timeout=120)
    _terraform(folder, env, "apply", "-auto-approve", timeout=480)
    plan = _terraform(folder, env, "plan", "-detailed-exitcode", timeout=240, ok=(0, 2))
    assert "No changes." in plan, f"the second plan is not empty:\n{plan}"

    # what use_lockfile leaves in a state bucket: lock files come and go, leaving delete markers
    s3 = aws(emulated, REGION).client("s3")
    for _ in range(2):
        s3.put_object(Bucket=STATE_BUCKET, Key="dev/network.tfstate.tflock", Body=b"{}")
        s3.delete_object(Bucket=STATE_BUCKET, Key="dev/network.tfstate.tflock")
    s3.put_object(Bucket=STATE_BUCKET, Key="dev/network.tfstate", Body=b"{}")

    _terraform(folder, env, "destroy", "-auto-approve", timeout=480)


UNIMPLEMENTED = """
provider "aws" {
  region = "eu-west-1"
}

# CreateCustomKeyStore is an action moto does not implement
resource "aws_kms_custom_key_store" "hsm" {
  custom_key_store_name    = "fidelity-unimplemented"
  cloud_hsm_cluster_id     = "cluster-1234567890a"
  key_store_password       = "fidelity-pass-1"
  trust_anchor_certificate = "fidelity-trust-anchor"
}
"""


def test_an_action_moto_lacks_fails_the_apply_at_once_naming_it(emulated, mirror, tmp_path):
    """moto answers an action it lacks with a 500, which the provider's SDK retried for tens of minutes (an apply
    hung 21 min on GetParametersForImport, since patched). The emulator answers a 400 NotImplemented: the apply fails
    on the first attempt, and Terraform's error names the action."""
    folder, env = _stack(emulated, mirror, tmp_path, UNIMPLEMENTED)
    _terraform(folder, env, "init", timeout=120)
    before = len([e for e in emulator_requests(emulated) if e["op"] == "CreateCustomKeyStore"])
    out = _terraform(folder, env, "apply", "-auto-approve", timeout=300, ok=(1,))
    calls = [e for e in emulator_requests(emulated) if e["op"] == "CreateCustomKeyStore"][before:]
    assert [(e["attempt"], e["status"], e["error"]) for e in calls] == [(1, 400, "NotImplemented")], calls
    _terraform(folder, env, "destroy", "-auto-approve", timeout=300)
    assert "kms CreateCustomKeyStore is not implemented by the AWS emulator" in out, out


# Small reproductions of the gaps public modules met (terraform-aws-modules' kms, s3-bucket and vpc examples), each
# written for this test: on stock moto each resource below fails, hangs or plans a change on the second plan.
PUBLIC_MODULE_GAPS = """
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "replica"
  region = "eu-central-1"
}

data "aws_caller_identity" "me" {}
data "aws_canonical_user_id" "me" {}

# --- KMS: a replica with its own policy (the primary stays PRIMARY), imported key material, the rotation period
resource "aws_kms_key" "primary" {
  description  = "gaps-primary"
  multi_region = true
}

resource "aws_kms_replica_key" "replica" {
  provider        = aws.replica
  description     = "gaps-replica"
  primary_key_arn = aws_kms_key.primary.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "replica-admin"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.me.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_external_key" "imported" {
  description             = "gaps-external"
  deletion_window_in_days = 7
  key_material_base64     = "Wblj06fduthWggmsT0cLVoIMOkeLbc2kVfMud77i/JY="
}

resource "aws_kms_key" "rotated" {
  description             = "gaps-rotated"
  enable_key_rotation     = true
  rotation_period_in_days = 90
}

# --- S3: configurations moto took for CreateBucket, trimmed echoes, logging before the target's policy
resource "aws_s3_bucket" "b" {
  for_each      = toset(["gaps-data", "gaps-logs", "gaps-acl"])
  bucket        = each.key
  force_destroy = true
}

resource "aws_s3_bucket" "locked" {
  bucket              = "gaps-locked"
  force_destroy       = true
  object_lock_enabled = true
}

resource "aws_s3_bucket_request_payment_configuration" "p" {
  bucket = aws_s3_bucket.b["gaps-data"].id
  payer  = "Requester"
}

resource "aws_s3_bucket_metric" "m" {
  bucket = aws_s3_bucket.b["gaps-data"].id
  name   = "documents"
  filter {
    prefix = "documents/"
    tags   = { class = "a" }
  }
}

resource "aws_s3_bucket_intelligent_tiering_configuration" "t" {
  bucket = aws_s3_bucket.b["gaps-data"].id
  name   = "archive"
  filter {
    prefix = "archive/"
  }
  tiering {
    access_tier = "ARCHIVE_ACCESS"
    days        = 125
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "l" {
  bucket                                 = aws_s3_bucket.b["gaps-data"].id
  transition_default_minimum_object_size = "varies_by_storage_class"
  rule {
    id     = "sized"
    status = "Enabled"
    filter {
      and {
        prefix                   = "logs/"
        object_size_greater_than = 500
        object_size_less_than    = 64000
      }
    }
    expiration {
      days = 90
    }
  }
}

resource "aws_s3_bucket_accelerate_configuration" "a" {
  bucket = aws_s3_bucket.b["gaps-data"].id
  status = "Suspended"
}

resource "aws_s3_bucket_versioning" "v" {
  bucket = aws_s3_bucket.b["gaps-data"].id
  versioning_configuration {
    status     = "Enabled"
    mfa_delete = "Disabled"
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.b["gaps-logs"].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "logging.s3.amazonaws.com" }
      Action    = "s3:PutObject"
      Resource  = "${aws_s3_bucket.b["gaps-logs"].arn}/*"
    }]
  })
}

resource "aws_s3_bucket_logging" "g" {
  bucket        = aws_s3_bucket.b["gaps-data"].id
  target_bucket = aws_s3_bucket.b["gaps-logs"].id
  target_prefix = "access/"
  target_object_key_format {
    partitioned_prefix {
      partition_date_source = "DeliveryTime"
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "acl" {
  bucket = aws_s3_bucket.b["gaps-acl"].id
  rule {
    object_ownership = "ObjectWriter"
  }
}

resource "aws_s3_bucket_acl" "acl" {
  depends_on = [aws_s3_bucket_ownership_controls.acl]
  bucket     = aws_s3_bucket.b["gaps-acl"].id
  access_control_policy {
    grant {
      grantee {
        id   = data.aws_canonical_user_id.me.id
        type = "CanonicalUser"
      }
      permission = "FULL_CONTROL"
    }
    owner {
      id = data.aws_canonical_user_id.me.id
    }
  }
}

resource "aws_s3_bucket_versioning" "locked" {
  bucket = aws_s3_bucket.locked.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "locked" {
  depends_on = [aws_s3_bucket_versioning.locked]
  bucket     = aws_s3_bucket.locked.id
  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = 1
    }
  }
}

# --- EC2: a customer gateway's device name, DHCP options' tags, an interface endpoint's subnet configuration and DNS
# options
resource "aws_vpc_dhcp_options" "d" {
  domain_name         = "service.consul"
  domain_name_servers = ["127.0.0.1", "10.10.0.2"]
  tags                = { Name = "gaps-dhcp" }
}

resource "aws_customer_gateway" "cgw" {
  bgp_asn     = 65112
  ip_address  = "49.33.1.162"
  device_name = "edge-router-1"
  type        = "ipsec.1"
}

resource "aws_vpc" "v" {
  cidr_block = "10.88.0.0/16"
}

resource "aws_subnet" "s" {
  for_each          = { a = "10.88.1.0/24", b = "10.88.2.0/24" }
  vpc_id            = aws_vpc.v.id
  cidr_block        = each.value
  availability_zone = "eu-west-1${each.key}"
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.v.id
  service_name      = "com.amazonaws.eu-west-1.s3"
  vpc_endpoint_type = "Interface"
  subnet_ids        = [for s in aws_subnet.s : s.id]
  dns_options {
    dns_record_ip_type                             = "ipv4"
    private_dns_only_for_inbound_resolver_endpoint = false
  }
  subnet_configuration {
    subnet_id = aws_subnet.s["a"].id
    ipv4      = "10.88.1.10"
  }
  subnet_configuration {
    subnet_id = aws_subnet.s["b"].id
    ipv4      = "10.88.2.10"
  }
}
"""


def test_public_module_gaps_apply_plan_clean_and_destroy(emulated, mirror, tmp_path):
    folder, env = _stack(emulated, mirror, tmp_path, PUBLIC_MODULE_GAPS, aliases=[None, "replica"])
    _terraform(folder, env, "init", timeout=120)
    _terraform(folder, env, "apply", "-auto-approve", timeout=600)
    plan = _terraform(folder, env, "plan", "-detailed-exitcode", timeout=300, ok=(0, 2))
    assert "No changes." in plan, f"the second plan is not empty:\n{plan}"
    _terraform(folder, env, "destroy", "-auto-approve", timeout=600)
