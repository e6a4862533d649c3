"""The DR drill's evidence check (services/drill/replication.py) against a real emulator that replicates.

Each test makes its own pair of buckets as the evidence stack does (terraform/stacks/aws/evidence: the locked primary
in eu-west-1, the locked replica in eu-central-1, both versioned with Object Lock COMPLIANCE for one day and SSE-KMS,
the primary's rule as modules/aws/evidence/replication.tf writes it), then plants what the drill must find.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from infractl.models.drill import PartResult
from infractl.services.drill import replication
from tests.integration.two_regions import DR, ROLE, TwoRegions, two_regions

pytestmark = pytest.mark.integration

Evidence = TwoRegions


@pytest.fixture(scope="module")
def evidence(tmp_path_factory) -> Iterator[Evidence]:
    with two_regions(tmp_path_factory.mktemp("drill-replication-emulator")) as made:
        yield made


def _bucket(s3: Any, name: str, kms_key: str, *, default_retention: bool = True) -> str:
    s3.create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name},
        ObjectLockEnabledForBucket=True,
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    rule = {"Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}} if default_retention else {}
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", **rule})
    default = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key}}
    s3.put_bucket_encryption(
        Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{**default, "BucketKeyEnabled": True}]}
    )
    return name


def _replication(replica: str, dr_kms_key: str, **destination: Any) -> dict[str, Any]:
    """The configuration modules/aws/evidence/replication.tf writes."""
    rule = {
        "ID": "replicate-evidence",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {
            "Bucket": f"arn:aws:s3:::{replica}",
            "StorageClass": "STANDARD",
            "EncryptionConfiguration": {"ReplicaKmsKeyID": dr_kms_key},
            **destination,
        },
    }
    return {"Role": ROLE, "Rules": [rule]}


def stack(ev: Evidence, name: str, *, objects: int = 3, default_retention: bool = True) -> tuple[str, str]:
    """The evidence stack's two buckets, replicating, with `objects` evidence objects already written."""
    replica = _bucket(ev.dr, f"{name}-dr", ev.dr_kms_key)
    primary = _bucket(ev.s3, f"{name}-primary", ev.kms_key, default_retention=default_retention)
    ev.s3.put_bucket_replication(Bucket=primary, ReplicationConfiguration=_replication(replica, ev.dr_kms_key))
    for n in range(objects):
        extra = {"ObjectLockLegalHoldStatus": "ON"} if n == 0 else {}
        if not default_retention:
            extra |= {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": "2099-01-01T00:00:00Z"}
        ev.s3.put_object(Bucket=primary, Key=f"ledger/{n:04d}.json", Body=f'{{"seq": {n}}}'.encode(), **extra)
    return primary, replica


def run(ev: Evidence, primary: str, replica: str, **options: Any) -> tuple[PartResult, list[str]]:
    lines: list[str] = []
    result = replication.check(ev.s3, ev.dr, primary, replica, progress=lines.append, timeout_s=10.0, **options)
    return result, lines


def step(result: PartResult, name: str) -> Any:
    found = [s for s in result.steps if s.name == f"evidence.{name}"]
    assert found, f"no step evidence.{name} in {[s.name for s in result.steps]}"
    return found[0]


def test_a_healthy_replication_passes_with_its_numbers(evidence):
    primary, replica = stack(evidence, "drill-healthy", objects=5)
    result, lines = run(evidence, primary, replica)
    assert result.part == "evidence" and result.passed, [s.reason for s in result.steps]
    assert [s.name for s in result.steps] == ["evidence.configuration", "evidence.probe", "evidence.compare"]
    probe = step(result, "probe")
    assert probe.facts["key"].startswith("drills/replication-probe/") and probe.facts["lag_seconds"] >= 0
    compare = step(result, "compare").facts
    assert compare["objects"] == 6 and compare["missing"] == 0 and compare["mismatched"] == 0  # 5 + the probe
    assert compare["bytes"] > 0 and compare["seconds"] >= 0
    head = evidence.dr.head_object(Bucket=replica, Key=probe.facts["key"])
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ReplicationStatus"] == "REPLICA"
    assert any("evidence.compare: passed" in line for line in lines)


def test_a_replication_gap_fails_the_compare_naming_the_missing_key(evidence):
    primary, replica = stack(evidence, "drill-gap")
    config = evidence.s3.get_bucket_replication(Bucket=primary)["ReplicationConfiguration"]
    evidence.s3.delete_bucket_replication(Bucket=primary)
    evidence.s3.put_object(Bucket=primary, Key="ledger/written-while-off.json", Body=b'{"seq": 99}')
    evidence.s3.put_bucket_replication(Bucket=primary, ReplicationConfiguration=config)
    result, _ = run(evidence, primary, replica)
    assert not result.passed
    compare = step(result, "compare")
    assert compare.status == "failed" and step(result, "probe").status == "passed"
    assert "1 of 5 evidence objects are missing in the DR bucket drill-gap-dr: ledger/written-while-off.json" in (
        compare.reason or ""
    )
    assert "S3 Batch Replication" in (compare.reason or "")
    assert compare.facts["missing"] == 1 and compare.facts["missing_keys"] == ["ledger/written-while-off.json"]


def test_a_changed_replica_fails_the_compare_naming_what_differs(evidence):
    primary, replica = stack(evidence, "drill-mismatch")
    evidence.dr.put_object(Bucket=replica, Key="ledger/0001.json", Body=b'{"seq": "tampered"}')  # a newer version
    result, _ = run(evidence, primary, replica, probe=False)
    compare = step(result, "compare")
    assert compare.status == "failed" and compare.facts["mismatched"] == 1 and compare.facts["missing"] == 0
    assert "1 of 3 evidence objects differ in the DR bucket drill-mismatch-dr: ledger/0001.json (" in (
        compare.reason or ""
    )
    assert "body SHA-256" in (compare.reason or "") and "not a replica" in (compare.reason or "")
    assert step(result, "probe").status == "skipped"


def test_a_lifted_legal_hold_on_the_replica_is_a_mismatch(evidence):
    primary, replica = stack(evidence, "drill-hold")
    version = evidence.dr.head_object(Bucket=replica, Key="ledger/0000.json")["VersionId"]
    evidence.dr.put_object_legal_hold(
        Bucket=replica, Key="ledger/0000.json", VersionId=version, LegalHold={"Status": "OFF"}
    )
    result, _ = run(evidence, primary, replica, probe=False)
    assert "ledger/0000.json (legal hold OFF != ON)" in (step(result, "compare").reason or "")


def test_a_missing_replication_configuration_fails_the_configuration_with_the_fix(evidence):
    primary, replica = stack(evidence, "drill-noconfig", objects=1)
    evidence.s3.delete_bucket_replication(Bucket=primary)
    result, _ = run(evidence, primary, replica)
    assert [s.name for s in result.steps] == ["evidence.configuration"]  # the part stops there
    reason = step(result, "configuration").reason or ""
    assert "drill-noconfig-primary has no replication configuration" in reason
    assert "infractl apply <env> --stack evidence" in reason


def test_a_rule_to_another_bucket_or_a_dr_bucket_without_lock_fails_the_configuration(evidence):
    primary, _ = stack(evidence, "drill-wrongdest", objects=0)
    evidence.dr.create_bucket(Bucket="drill-unlocked-dr", CreateBucketConfiguration={"LocationConstraint": DR})
    result, _ = run(evidence, primary, "drill-unlocked-dr")
    reason = step(result, "configuration").reason or ""
    assert "no Enabled replication rule of drill-wrongdest-primary has the DR bucket drill-unlocked-dr" in reason
    assert "versioning of the DR bucket drill-unlocked-dr is off" in reason and "has no Object Lock" in reason


def test_a_probe_that_fails_to_replicate_fails_the_probe(evidence):
    primary, replica = stack(evidence, "drill-probefail", objects=0)
    config = _replication(replica, evidence.dr_kms_key, Account="999999999999")  # the replica is not there
    evidence.s3.put_bucket_replication(Bucket=primary, ReplicationConfiguration=config)
    result, _ = run(evidence, primary, replica)
    probe = step(result, "probe")
    assert probe.status == "failed" and probe.facts["source_status"] == "FAILED"
    assert "did not reach the DR bucket drill-probefail-dr: S3 marked its replication FAILED" in (probe.reason or "")
    assert [s.name for s in result.steps][-1] == "evidence.probe"


def test_without_a_default_retention_the_probe_is_locked_explicitly_and_the_prefix_limits_the_compare(evidence):
    primary, replica = stack(evidence, "drill-noretention", objects=2, default_retention=False)
    evidence.s3.put_object(
        Bucket=primary,
        Key="other/x.json",
        Body=b"{}",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate="2099-01-01T00:00:00Z",
    )
    result, _ = run(evidence, primary, replica, prefix="ledger/")
    assert result.passed, [s.reason for s in result.steps]
    assert step(result, "compare").facts["objects"] == 2
    head = evidence.s3.head_object(Bucket=primary, Key=step(result, "probe").facts["key"])
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ReplicationStatus"] == "COMPLETED"


def test_an_unreachable_dr_endpoint_fails_the_configuration_step_naming_the_call(evidence):
    from infractl.adapters.localservices import free_port

    primary, replica = stack(evidence, "drill-unreachable", objects=0)
    config = Config(retries={"max_attempts": 1}, connect_timeout=2, s3={"addressing_style": "path"})
    nowhere = boto3.client(
        "s3",
        region_name=DR,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # pragma: allowlist secret
        config=config,
    )
    result = replication.check(evidence.s3, nowhere, primary, replica, progress=lambda _m: None)
    configuration = step(result, "configuration")
    assert configuration.status == "failed" and f"s3:HeadBucket {replica}" in (configuration.reason or "")
