import json

from tests.integration.conftest import REPO_ROOT, aws


def test_state_bootstrap_is_idempotent_and_secure(invoke, emulated):
    first = json.loads(invoke("state", "bootstrap", "staging", "--emulate", "--json", root=REPO_ROOT).stdout)
    assert {i["status"] for i in first["items"]} == {"created"}
    second = json.loads(invoke("state", "bootstrap", "staging", "--emulate", "--json", root=REPO_ROOT).stdout)
    assert [(i["name"], i["status"]) for i in second["items"]] == [(i["name"], "unchanged") for i in first["items"]]

    bucket = second["bucket"]
    assert bucket == "infractl-tfstate-123456789012-eu-west-1-staging"
    s3 = aws(emulated).client("s3")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags["environment"] == "staging" and tags["cost-center"] == "cc-1001"


def test_drifted_setting_is_converged_back(invoke, emulated):
    invoke("state", "bootstrap", "staging", "--emulate", root=REPO_ROOT)
    s3 = aws(emulated).client("s3")
    bucket = "infractl-tfstate-123456789012-eu-west-1-staging"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    items = json.loads(invoke("state", "bootstrap", "staging", "--emulate", "--json", root=REPO_ROOT).stdout)["items"]
    assert {i["name"]: i["status"] for i in items}["versioning"] == "updated"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_dynamodb_lock_table_option(invoke, emulated):
    result = json.loads(invoke("state", "bootstrap", "prod", "--emulate", "--json", root=REPO_ROOT).stdout)
    assert result["lock"] == "dynamodb" and result["lock_table"] == "infractl-tflock-prod"
    table = aws(emulated).client("dynamodb").describe_table(TableName="infractl-tflock-prod")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    again = json.loads(invoke("state", "bootstrap", "prod", "--emulate", "--json", root=REPO_ROOT).stdout)
    assert {i["status"] for i in again["items"]} == {"unchanged"}


def test_emulator_status_json(invoke, emulated):
    data = json.loads(invoke("emulator", "status", "--json", root=REPO_ROOT).stdout)
    assert data["running"] is True and data["url"].startswith("https://127.0.0.1:")


def test_without_emulator_the_command_says_how_to_start_it(invoke, emulated, tmp_path, monkeypatch):
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path))
    result = invoke("plan", "dev", "--emulate", root=REPO_ROOT, code=1)
    assert "the local AWS emulator is not running" in result.stderr
    assert "infractl emulator start" in result.stderr
