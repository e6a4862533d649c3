"""`infractl bootstrap dev --emulate`: every stack of the graph on the emulator, resumed after a failure,
idempotent, then destroyed apart from the locked evidence."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import random
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from infractl.cli.main import main
from infractl.services import environments
from infractl.services.context import build
from tests.integration.conftest import REPO_ROOT, aws, emulator_anomalies, emulator_requests

ACCOUNT = "123456789012"
ALL = {"kms", "evidence", "finops", "network", "ci", "cluster", "data", "registry"}


def outputs(invoke, stack: str) -> dict:
    """A bootstrapped stack's outputs, through `infractl output dev STACK --emulate --json`."""
    return json.loads(invoke("output", "dev", stack, "--emulate", "--json", root=REPO_ROOT).stdout)


def run_cli(*args: str) -> tuple[int, dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["--root", str(REPO_ROOT), *args])
    return rc, (json.loads(out.getvalue()) if out.getvalue().strip().startswith("{") else {})


@pytest.fixture(scope="module")
def bootstrapped(work_dir, mirror):
    """Bootstrap dev twice: the first run meets a planted conflict in finops (a budget of the same name made
    outside Terraform) and fails; once it is removed, the second run resumes. Yields both JSON results."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INFRACTL_WORK_DIR", str(work_dir))
        mp.setenv("INFRACTL_PROVIDER_MIRROR", mirror)
        budgets = aws(work_dir, "us-east-1").client("budgets")
        budgets.create_budget(
            AccountId=ACCOUNT,
            Budget={
                "BudgetName": "dev-monthly",
                "BudgetLimit": {"Amount": "1", "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            },
        )
        rc, first = run_cli("bootstrap", "dev", "--emulate", "--yes", "--json")
        assert rc == 1, (first, emulator_anomalies(work_dir))
        budgets.delete_budget(AccountId=ACCOUNT, BudgetName="dev-monthly")
        rc, second = run_cli("bootstrap", "dev", "--emulate", "--yes", "--json")
        assert rc == 0, (failures(second), emulator_anomalies(work_dir))
        return first, second


def failures(result: dict) -> list[dict]:
    """What failed, with Terraform's whole diagnostic: the assertion message is all CI shows of a failed run."""
    keys = ("stack", "status", "error", "error_details", "hint")
    return [
        {k: s.get(k) for k in keys} for s in result.get("stacks", []) if s.get("status") in ("failed", "not-reached")
    ] or [result]


def statuses(result: dict) -> dict[str, str]:
    return {s["stack"]: s["status"] for s in result["stacks"]}


def test_failed_stack_is_reported_and_resumed(bootstrapped):
    first, second = bootstrapped
    before = statuses(first)
    assert before["finops"] == "failed" and first["ok"] is False
    failed = next(s for s in first["stacks"] if s["stack"] == "finops")
    assert "dev-monthly" in " ".join([failed["error"], *failed["error_details"]])
    assert {before[n] for n in ("network", "ci", "cluster", "data")} <= {"not-reached", "applied"}
    assert "not-reached" in before.values()
    after = statuses(second)
    assert after["finops"] == "applied" and set(after) == ALL
    for name, status in before.items():  # what the first run applied is up to date now; the rest is applied
        assert after[name] == ("up-to-date" if status == "applied" else "applied"), name


def test_every_stack_is_up(bootstrapped, work_dir):
    ec2 = aws(work_dir).client("ec2")
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.10.0.0/16"]}])["Vpcs"]
    tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
    assert tags["environment"] == "dev" and tags["cost-center"] == "cc-1001"
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    assert len(subnets) == 6 and not any(s["MapPublicIpOnLaunch"] for s in subnets)
    assert len(ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]) == 1

    dbs = {d["DBInstanceIdentifier"]: d for d in aws(work_dir).client("rds").describe_db_instances()["DBInstances"]}
    assert set(dbs) == {"dev-control-plane", "dev-tenant-initech"}  # the shared one + dev's dedicated tier C tenant
    db = dbs["dev-control-plane"]
    assert db["Engine"] == "postgres" and db["EngineVersion"].startswith("16.")
    assert db["StorageEncrypted"] and not db["PubliclyAccessible"] and db["IAMDatabaseAuthenticationEnabled"]

    eks = aws(work_dir).client("eks")
    (cluster,) = eks.list_clusters()["clusters"]
    assert eks.describe_cluster(name=cluster)["cluster"]["encryptionConfig"][0]["resources"] == ["secrets"]
    assert len(eks.list_nodegroups(clusterName=cluster)["nodegroups"]) == 3  # system, the dev tier, tenant initech
    # the tenant tag (docs/finops.md#tags): the tier C tenant's node group is initech's, the others are shared
    tenant_tags = {
        ng: eks.describe_nodegroup(clusterName=cluster, nodegroupName=ng)["nodegroup"]["tags"].get("tenant")
        for ng in eks.list_nodegroups(clusterName=cluster)["nodegroups"]
    }
    assert tenant_tags == {"dev-system": "shared", "dev-tenant-standard": "shared", "dev-tenant-c-initech": "initech"}

    roles = {r["RoleName"] for r in aws(work_dir).client("iam").list_roles()["Roles"]}
    assert any("plan" in r for r in roles) and any("apply" in r for r in roles)

    repos = aws(work_dir).client("ecr").describe_repositories()["repositories"]
    dev_repos = {r["repositoryName"]: r for r in repos if r["repositoryName"].startswith("dev/")}
    assert set(dev_repos) == {"dev/controlplane-api", "dev/controlplane-worker"}
    assert {r["imageTagMutability"] for r in dev_repos.values()} == {"IMMUTABLE"}


def test_dedicated_tenant_instance_is_built_like_the_shared_one(bootstrapped, invoke, emulated, work_dir):
    """environments/dev.yaml gives tier C tenant initech its own instance: read back through the RDS API, it has the
    tenant's size, the shared instance's engine, key, subnets, backups and protection, its own security group and
    managed master secret, the tenant tag, and its database tenant_initech; the data stack's output gives all that."""
    data = outputs(invoke, "data")
    key = outputs(invoke, "kms")["database_key_id"]
    rds = aws(work_dir).client("rds")
    (tenant,) = rds.describe_db_instances(DBInstanceIdentifier="dev-tenant-initech")["DBInstances"]
    (shared,) = rds.describe_db_instances(DBInstanceIdentifier="dev-control-plane")["DBInstances"]
    assert (tenant["Engine"], tenant["EngineVersion"]) == (shared["Engine"], shared["EngineVersion"])
    assert (tenant["DBInstanceClass"], tenant["AllocatedStorage"], tenant["MaxAllocatedStorage"]) == (
        "db.t4g.micro",  # environments/dev.yaml: tenants[initech].database.dedicated_instance
        20,
        50,
    )
    assert tenant["MultiAZ"] is False and tenant["StorageType"] == "gp3"
    assert tenant["DBName"] == "tenant_initech" and not shared.get("DBName")  # its database, made with it
    assert tenant["StorageEncrypted"] and tenant["KmsKeyId"] == key == shared["KmsKeyId"]
    assert tenant["PerformanceInsightsKMSKeyId"] == key
    assert not tenant["PubliclyAccessible"] and tenant["IAMDatabaseAuthenticationEnabled"]
    assert tenant["BackupRetentionPeriod"] == shared["BackupRetentionPeriod"] == 7  # dev's RPO (1440 min)
    assert tenant["DeletionProtection"] is shared["DeletionProtection"] is False
    subnets = [{s["SubnetIdentifier"] for s in d["DBSubnetGroup"]["Subnets"]} for d in (tenant, shared)]
    assert subnets[0] == subnets[1] and len(subnets[0]) == 2
    (group,) = tenant["VpcSecurityGroups"]
    assert group["VpcSecurityGroupId"] not in {g["VpcSecurityGroupId"] for g in shared["VpcSecurityGroups"]}
    (sg,) = (
        aws(work_dir).client("ec2").describe_security_groups(GroupIds=[group["VpcSecurityGroupId"]])["SecurityGroups"]
    )
    assert {(p["FromPort"], p["ToPort"]) for p in sg["IpPermissions"]} == {(5432, 5432)}
    assert tenant["MasterUserSecret"]["KmsKeyId"] == key
    tags = {t["Key"]: t["Value"] for t in tenant["TagList"]}
    assert (tags["tenant"], tags["environment"], tags["stack"], tags["Name"]) == (
        "initech",
        "dev",
        "data",
        "dev-tenant-initech",
    )
    assert {t["Key"]: t["Value"] for t in shared["TagList"]}["tenant"] == "shared"  # default_tags (docs/finops.md)
    assert data["tenant_instances"] == {
        "initech": {
            "identifier": "dev-tenant-initech",
            "endpoint": f"{tenant['Endpoint']['Address']}:{tenant['Endpoint']['Port']}",
            "address": tenant["Endpoint"]["Address"],
            "port": tenant["Endpoint"]["Port"],
            "database": "tenant_initech",
            "master_user_secret_arn": tenant["MasterUserSecret"]["SecretArn"],
        }
    }


def test_tenant_backup_bucket_is_private_and_encrypted_under_the_database_key(bootstrapped, invoke, emulated, work_dir):
    """The data stack's tenant backup bucket read back through the S3 API: SSE-KMS under the kms stack's database key
    (whose policy lets S3 use it), versioned, no public access, access logs into its log bucket."""
    data = outputs(invoke, "data")
    key = outputs(invoke, "kms")["database_key_id"]
    bucket = data["tenant_backup_bucket"]
    assert bucket == f"bkp-{ACCOUNT}-eu-west-1-dev" and data["tenant_backup_bucket_arn"] == f"arn:aws:s3:::{bucket}"
    assert bucket == environments.load(build(root=REPO_ROOT).project, "dev").tenant_backup_bucket()  # one rule
    s3 = aws(work_dir).client("s3")
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert (logging["TargetBucket"], logging["TargetPrefix"]) == (f"{bucket}-access-logs", f"{bucket}/")
    log_encryption = s3.get_bucket_encryption(Bucket=f"{bucket}-access-logs")["ServerSideEncryptionConfiguration"]
    assert log_encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30 and "Expiration" not in lifecycle
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {
        "DenyInsecureTransport",
        "DenyNonKmsEncryption",
        "DenyOtherKmsKeys",
    }
    # the database key may be used through S3 (tenant backups), as through RDS and Secrets Manager
    key_policy = json.loads(aws(work_dir).client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    (use,) = [s for s in key_policy["Statement"] if s["Sid"] == "UseThroughAwsServicesOnly"]
    assert "s3.eu-west-1.amazonaws.com" in use["Condition"]["StringEquals"]["kms:ViaService"]


def _oci_manifest(layer: str) -> str:
    """An OCI image manifest with one layer: the emulator derives the digest from the layer digests."""
    config = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "c" * 64, "size": 2}
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 1}],
        }
    )


def test_registry_repositories_are_locked_down_and_the_next_stage_may_pull(bootstrapped, invoke, emulated, work_dir):
    """The registry stack as applied in dev, read back through the ECR API (the re-plan, the 5xx check and the
    destroy of the other tests of this module cover it too)."""
    kms_key = outputs(invoke, "kms")["registry_key_id"]
    ecr = aws(work_dir).client("ecr")
    repos = ecr.describe_repositories(repositoryNames=["dev/controlplane-api", "dev/controlplane-worker"])
    for repo in repos["repositories"]:
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": kms_key}
        tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]}
        assert tags["environment"] == "dev" and tags["stack"] == "registry"
        lifecycle = json.loads(ecr.get_lifecycle_policy(repositoryName=repo["repositoryName"])["lifecyclePolicyText"])
        assert [(r["selection"]["tagStatus"], r["selection"]["countNumber"]) for r in lifecycle["rules"]] == [
            ("tagged", 20),  # environments/dev.yaml: keep_releases
            ("untagged", 7),  # untagged_expiry_days
        ]
        policy = json.loads(ecr.get_repository_policy(repositoryName=repo["repositoryName"])["policyText"])
        (statement,) = policy["Statement"]
        assert statement["Principal"] == {"AWS": ["arn:aws:iam::234567890123:root"]}  # staging's account
        assert sorted(statement["Action"]) == [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        ]
    # an immutable tag keeps naming its first image
    repo = "dev/controlplane-api"
    first = ecr.put_image(repositoryName=repo, imageManifest=_oci_manifest("sha256:" + "1" * 64), imageTag="v1.0.0")
    with pytest.raises(ClientError, match="already exists"):
        ecr.put_image(repositoryName=repo, imageManifest=_oci_manifest("sha256:" + "2" * 64), imageTag="v1.0.0")
    (image,) = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "v1.0.0"}])["imageDetails"]
    assert image["imageDigest"] == first["image"]["imageId"]["imageDigest"]
    ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": image["imageDigest"]}])


def test_the_ci_stack_separates_duties_as_the_security_gate_checks(bootstrapped, work_dir):
    """The ci stack as applied: the plan role cannot apply, the apply role needs a GitHub environment, no IAM user
    (docs/gates.md); a plan role given administrator rights is named."""
    from infractl.models.gate import CheckDef
    from infractl.services.gate import duties

    target, check = aws(work_dir), CheckDef(kind="duties")
    found = duties.duties(check, lambda: target, "dev", "example-org/control-plane", dt.datetime.now(dt.UTC))
    assert found.status == "met", found.detail
    iam, admin = target.client("iam"), "arn:aws:iam::aws:policy/AdministratorAccess"
    iam.attach_role_policy(RoleName="dev-github-plan", PolicyArn=admin)
    try:
        found = duties.duties(check, lambda: target, "dev", "example-org/control-plane", dt.datetime.now(dt.UTC))
    finally:
        iam.detach_role_policy(RoleName="dev-github-plan", PolicyArn=admin)
    assert (
        found.status == "not-met"
        and "dev-github-plan: it has the AWS-managed policy AdministratorAccess" in found.detail
    )


def test_no_emulator_call_failed_or_ran_twice(bootstrapped, work_dir):
    """The root cause of the old intermittent failures: a mutating call that the SDK sent again after it had run
    (its answer late or lost) ran twice, `AlreadyExists`. Over the whole bootstrap, no request got a 5xx and no call
    ran twice; retries (a few a run on this 2-core machine) either never reached the emulator or got the answer of
    their first run."""
    requests = emulator_requests(work_dir)
    assert len(requests) > 1000  # the whole graph's calls were logged
    assert emulator_anomalies(work_dir) == []


def test_locked_evidence_cannot_be_deleted(bootstrapped, invoke, emulated):
    bucket = outputs(invoke, "evidence")["bucket_name"]
    s3 = aws(emulated).client("s3")
    put = s3.put_object(Bucket=bucket, Key="audit/2026-11-25.json", Body=b'{"event": "tenant created"}')
    head = s3.head_object(Bucket=bucket, Key="audit/2026-11-25.json", VersionId=put["VersionId"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > dt.datetime.now(dt.UTC)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=bucket, Key="audit/2026-11-25.json", VersionId=put["VersionId"])
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(
            Bucket=bucket, Key="audit/2026-11-25.json", VersionId=put["VersionId"], BypassGovernanceRetention=True
        )
    assert s3.head_object(Bucket=bucket, Key="audit/2026-11-25.json", VersionId=put["VersionId"])


def test_rerunning_bootstrap_changes_nothing(bootstrapped, invoke, emulated):
    """The second run plans every stack against what the first applied: no change anywhere (the stacks' own
    idempotency, and the state backend's)."""
    data = json.loads(invoke("bootstrap", "dev", "--emulate", "--yes", "--json", root=REPO_ROOT).stdout)
    assert {i["status"] for i in data["state"]["items"]} == {"unchanged"}
    assert {s["stack"]: (s["status"], s["add"], s["change"], s["destroy"]) for s in data["stacks"]} == {
        n: ("up-to-date", 0, 0, 0) for n in ALL
    }


def test_render_from_state_takes_the_applied_database_and_bucket(bootstrapped, invoke, emulated, tmp_path):
    """infractl render --from-state: the charts get the data stack's endpoint and the evidence stack's bucket."""
    import yaml

    data = outputs(invoke, "data")
    evidence = outputs(invoke, "evidence")
    args = ("render", "dev", "--emulate", "--from-state", "--out", str(tmp_path), "--json")
    result = json.loads(invoke(*args, root=REPO_ROOT).stdout)
    assert any("from the state of: data, evidence" in n for n in result["notes"])
    values = {
        c: yaml.safe_load((tmp_path / "dev" / "values" / f"{c}.yaml").read_text()) for c in ("controlplane", "temporal")
    }
    assert values["controlplane"]["config"]["database"]["host"] == data["address"]
    assert values["controlplane"]["config"]["database"]["port"] == data["port"]
    assert values["controlplane"]["config"]["objectStore"]["evidenceBucket"] == evidence["bucket_name"]
    assert values["temporal"]["persistence"]["host"] == data["address"]
    assert data["address"] in (tmp_path / "dev" / "temporal.yaml").read_text()


@pytest.fixture
def dev_stack(bootstrapped, invoke, emulated):
    """The dev stack in the emulator's work folder: its PostgreSQL archives WAL, its ledger takes the drill report."""
    offset = random.randrange(20000, 40000, 10)
    invoke("dev", "up", "--no-docker", "--port-offset", str(offset), "--json", root=REPO_ROOT)
    try:
        yield emulated
    finally:
        invoke("dev", "down", "--purge", root=REPO_ROOT)


def test_dr_drill_restores_recreates_and_checks_replicas_against_the_targets(dev_stack, invoke, tmp_path):
    """The whole DR drill once: the database restored to a point in time into a new instance with the app ready on
    it (RPO and RTO measured), the RDS restore path, the cluster destroyed and re-created, every evidence object in
    the DR region; then a replication gap planted in the DR bucket fails the evidence part, naming the object."""
    s3 = aws(dev_stack).client("s3")
    evidence = outputs(invoke, "evidence")
    s3.put_object(Bucket=evidence["bucket_name"], Key="audit/before-the-drill.json", Body=b'{"n": 1}')

    result = invoke("drill", "dr", "dev", "--emulate", "--report-dir", str(tmp_path), "--json", root=REPO_ROOT)
    report = json.loads(result.stdout)
    assert report["passed"], report["failures"]
    steps = {s["name"]: s for p in report["parts"] for s in p["steps"]}
    for name in ("database.restore", "database.app", "cluster.destroy", "cluster.recreate", "evidence.compare"):
        assert steps[name]["status"] == "passed", steps[name]
    assert any(n.startswith("database-rds.") or n.startswith("database.rds") for n in steps), sorted(steps)
    measures = {(m["name"], m["scope"]): m for m in report["measures"]}
    rpo, rto = measures[("rpo", "database")], measures[("rto", "database")]
    assert rpo["measured_seconds"] is not None and rpo["passed"] and rpo["target_minutes"] == 1440
    assert 0 < rto["measured_seconds"] < 480 * 60 and rto["passed"]
    assert measures[("rto", "cluster")]["passed"]
    assert steps["evidence.compare"]["facts"]["objects"] >= 1 and steps["evidence.compare"]["facts"]["missing"] == 0
    assert [Path(f).name for f in report["files"]] == ["dr-dev.json", "dr-dev.md", "dr-dev.html"]
    assert (tmp_path / "dr-dev.md").read_text().startswith("# Disaster recovery drill: dev — PASSED")
    assert report["ledger"]["seq"] >= 1 and report["ledger"]["ref"].startswith("drill:dr:dev:")
    assert outputs(invoke, "cluster")["cluster_name"]  # re-created

    # a replication gap: an object written while replication was off is in the primary only
    bucket = evidence["bucket_name"]
    config = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    s3.delete_bucket_replication(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="audit/written-while-replication-was-off.json", Body=b'{"n": 2}')
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config)
    failed = invoke("drill", "dr", "dev", "--emulate", "--part", "evidence", "--json", root=REPO_ROOT, code=10)
    report = json.loads(failed.stdout)
    assert not report["passed"]
    (reason,) = report["failures"]
    assert reason.startswith("evidence.compare: 1 of ") and "audit/written-while-replication-was-off.json" in reason


def test_destroy_removes_everything_but_the_locked_evidence(bootstrapped, invoke, emulated):
    refused = invoke("destroy", "dev", "--emulate", root=REPO_ROOT, code=2)
    assert "re-run with --yes" in refused.stderr
    evidence = outputs(invoke, "evidence")
    backups = outputs(invoke, "data")["tenant_backup_bucket"]

    result = invoke("destroy", "dev", "--emulate", "--yes", "--json", root=REPO_ROOT)
    data = json.loads(result.stdout)
    assert set(statuses(data).values()) == {"destroyed"}
    kept = next(s for s in data["stacks"] if s["stack"] == "evidence")
    assert kept["retained"] and "holding data under retention" in kept["hint"]
    assert f"s3://{evidence['bucket_name']}" in kept["hint"]
    # No backup was taken, but the backup bucket's access-log bucket holds the logs of the requests to it: the data
    # stack keeps the module whole (both buckets), names the log bucket and deletes everything else.
    data_stack = next(s for s in data["stacks"] if s["stack"] == "data")
    assert data_stack["retained"] and all(a.startswith("module.tenant_backups.") for a in data_stack["retained"])
    held, where = data_stack["hint"].split(": ", 1)[1].rsplit(" (", 1)
    assert held.split(", ") == [f"s3://{backups}-access-logs"]
    assert where == "terraform/stacks/aws/data/README.md: Destroy)"

    ec2 = aws(emulated).client("ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.10.0.0/16"]}])["Vpcs"] == []
    assert aws(emulated).client("rds").describe_db_instances()["DBInstances"] == []
    assert aws(emulated).client("eks").list_clusters()["clusters"] == []
    repos = aws(emulated).client("ecr").describe_repositories()["repositories"]
    assert [r["repositoryName"] for r in repos if r["repositoryName"].startswith("dev/")] == []
    s3 = aws(emulated).client("s3")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert evidence["bucket_name"] in buckets  # kept, with its locked object
    assert s3.list_object_versions(Bucket=evidence["bucket_name"])["Versions"]
    assert {backups, f"{backups}-access-logs"} <= buckets  # kept, the backup bucket empty
    assert "Versions" not in s3.list_object_versions(Bucket=backups)
    # nothing left in any state: a second destroy has nothing to do
    again = json.loads(invoke("destroy", "dev", "--emulate", "--yes", "--json", root=REPO_ROOT).stdout)
    assert set(statuses(again).values()) == {"up-to-date"}
