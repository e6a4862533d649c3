"""`state recover`'s pieces: which planned creates are looked up, the import blocks, and the look-ups themselves
against moto (the emulator's engine), one per covered type that the stacks create by name."""

from __future__ import annotations

import pytest

from infractl.adapters import aws_lookup
from infractl.adapters.aws import AwsTarget
from infractl.models.state import Orphan
from infractl.services.stacks.recover import import_blocks, planned_creates


def test_only_creates_from_nothing_are_candidates():
    plan = {
        "resource_changes": [
            {"address": "a.new", "mode": "managed", "change": {"actions": ["create"]}},
            {"address": "a.replaced", "mode": "managed", "change": {"actions": ["delete", "create"]}},
            {"address": "a.kept", "mode": "managed", "change": {"actions": ["no-op"]}},
            {"address": "data.x.y", "mode": "data", "change": {"actions": ["create"]}},
        ]
    }
    assert [rc["address"] for rc in planned_creates(plan)] == ["a.new"]


def test_import_blocks_quote_ids_and_keep_addresses():
    text = import_blocks(
        [
            Orphan(address='module.db.aws_db_instance.this["app"]', type="aws_db_instance", import_id="dev-app"),
            Orphan(address="aws_security_group.db", type="aws_security_group", import_id="sg-0123"),
        ]
    )
    assert text == (
        'import {\n  to = module.db.aws_db_instance.this["app"]\n  id = "dev-app"\n}\n\n'
        'import {\n  to = aws_security_group.db\n  id = "sg-0123"\n}\n\n'
    )


@pytest.fixture
def target(monkeypatch):
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield AwsTarget(region="eu-west-1")


def test_lookups_find_existing_objects_by_their_configured_name(target):
    rds, ec2, sm = target.client("rds"), target.client("ec2"), target.client("secretsmanager")
    rds.create_db_parameter_group(DBParameterGroupName="pg", DBParameterGroupFamily="postgres16", Description="d")
    rds.create_db_instance(
        DBInstanceIdentifier="dev-app",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="u",
        MasterUserPassword="password1",
        AllocatedStorage=20,
    )
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="db", Description="d", VpcId=vpc)["GroupId"]
    secret = sm.create_secret(Name="master", SecretString="x")["ARN"]
    target.client("iam").create_role(RoleName="apply", AssumeRolePolicyDocument="{}")
    target.client("logs").create_log_group(logGroupName="/app/logs")
    target.client("ssm").put_parameter(Name="/app/p", Value="v", Type="String")
    target.client("s3").create_bucket(Bucket="b-1", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    target.client("dynamodb").create_table(
        TableName="locks",
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    found = {
        ("aws_db_instance", "identifier", "dev-app"): "dev-app",
        ("aws_db_parameter_group", "name", "pg"): "pg",
        ("aws_security_group", "name", "db"): sg,
        ("aws_secretsmanager_secret", "name", "master"): secret,
        ("aws_iam_role", "name", "apply"): "apply",
        ("aws_cloudwatch_log_group", "name", "/app/logs"): "/app/logs",
        ("aws_ssm_parameter", "name", "/app/p"): "/app/p",
        ("aws_s3_bucket", "bucket", "b-1"): "b-1",
        ("aws_dynamodb_table", "name", "locks"): "locks",
    }
    for (kind, field, name), import_id in found.items():
        assert aws_lookup.existing(target, kind, {field: name}) == import_id, kind
        assert aws_lookup.existing(target, kind, {field: name + "-absent"}) is None, kind
        assert aws_lookup.existing(target, kind, {field: None}) is None, kind  # unknown until apply
    assert aws_lookup.existing(target, "aws_security_group", {"name": "db", "vpc_id": "vpc-other"}) is None
