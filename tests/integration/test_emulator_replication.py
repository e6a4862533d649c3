"""The emulator replicates S3 objects (emulator_patches/s3_replication.py): proven against a real emulator server.

One patched emulator for the module, started the way infractl starts it. The source buckets are in eu-west-1, the
replica buckets in eu-central-1, both configured like terraform/modules/aws/evidence (versioning, Object Lock with a
COMPLIANCE default retention of one day, SSE-KMS by default) and the source's rule shaped like its replication.tf
(empty filter, delete markers not replicated, SSE-KMS objects selected, the replica encrypted with the DR key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infractl.adapters.emulator_patches.s3_replication import chosen_rules, destination_name, rule_matches
from tests.integration.two_regions import ROLE, TwoRegions, two_regions

pytestmark = pytest.mark.integration

Clouds = TwoRegions


@pytest.fixture(scope="module")
def clouds(tmp_path_factory) -> Iterator[Clouds]:
    with two_regions(tmp_path_factory.mktemp("replication-emulator")) as made:
        yield made


def bucket(s3: Any, name: str, kms_key: str | None, *, lock: bool = True, versioned: bool = True) -> str:
    """A bucket as modules/aws/evidence makes it (lock and versioning can be left out)."""
    region = s3.meta.region_name
    s3.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}, ObjectLockEnabledForBucket=lock
    )
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if lock:
        rule = {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}
        s3.put_object_lock_configuration(
            Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule}
        )
    if kms_key:
        default = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key}}
        s3.put_bucket_encryption(
            Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{**default, "BucketKeyEnabled": True}]}
        )
    return name


def evidence_rule(destination: str, dr_kms_key: str, **changes: Any) -> dict[str, Any]:
    """The rule of terraform/modules/aws/evidence/replication.tf, with `changes` applied."""
    rule: dict[str, Any] = {
        "ID": "replicate-evidence",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {
            "Bucket": f"arn:aws:s3:::{destination}",
            "StorageClass": "STANDARD",
            "EncryptionConfiguration": {"ReplicaKmsKeyID": dr_kms_key},
        },
    }
    return {**rule, **changes}


def replicated_pair(clouds: Clouds, name: str, **changes: Any) -> tuple[str, str]:
    source = bucket(clouds.s3, f"{name}-primary", clouds.kms_key)
    replica = bucket(clouds.dr, f"{name}-dr", clouds.dr_kms_key)
    rule = evidence_rule(replica, clouds.dr_kms_key, **changes)
    clouds.s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": ROLE, "Rules": [rule]})
    return source, replica


def sha256(s3: Any, name: str, key: str, **extra: Any) -> str:
    return hashlib.sha256(s3.get_object(Bucket=name, Key=key, **extra)["Body"].read()).hexdigest()


def head_or_none(s3: Any, name: str, key: str) -> dict[str, Any] | None:
    try:
        return dict(s3.head_object(Bucket=name, Key=key))
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return None
        raise


# --- the rule's selection, without a server ------------------------------------------------------------------------


def test_rule_filters_select_keys_as_s3_does():
    tag = {"Key": "class", "Value": "audit"}
    assert rule_matches({"Status": "Enabled", "Filter": None}, "any/key", {})
    assert rule_matches({"Status": "Enabled", "Filter": {"Prefix": "a/"}}, "a/1", {})
    assert not rule_matches({"Status": "Enabled", "Filter": {"Prefix": "a/"}}, "b/1", {})
    assert not rule_matches({"Status": "Disabled", "Filter": None}, "a/1", {})
    assert rule_matches({"Status": "Enabled", "Filter": {"Tag": tag}}, "k", {"class": "audit"})
    assert not rule_matches({"Status": "Enabled", "Filter": {"Tag": tag}}, "k", {"class": "other"})
    both = {"Status": "Enabled", "Filter": {"And": {"Prefix": "a/", "Tag": [tag, {"Key": "x", "Value": "1"}]}}}
    assert rule_matches(both, "a/k", {"class": "audit", "x": "1"})
    assert not rule_matches(both, "a/k", {"class": "audit"})
    assert rule_matches({"Status": "Enabled", "Prefix": "v1/"}, "v1/k", {})  # a V1 rule
    low = {"Status": "Enabled", "Priority": "1", "Filter": None, "Destination": {"Bucket": "arn:aws:s3:::dr"}}
    high = {**low, "Priority": "5", "ID": "high"}
    other = {**low, "Destination": {"Bucket": "arn:aws:s3:::dr2"}}
    assert [r.get("ID") for r in chosen_rules([low, high], "k", {})] == ["high"]
    assert sorted(destination_name(r) for r in chosen_rules([low, other], "k", {})) == ["dr", "dr2"]


# --- replication on the server -------------------------------------------------------------------------------------


def test_a_locked_evidence_object_is_replicated_to_the_dr_region_with_its_lock(clouds):
    source, replica = replicated_pair(clouds, "repl-locked")
    body = b'{"evidence": "release 1.2.3"}'
    put = clouds.s3.put_object(
        Bucket=source,
        Key="runs/2026/12/07/entry.json",
        Body=body,
        ContentType="application/json",
        Metadata={"sha256": hashlib.sha256(body).hexdigest()},
        ObjectLockLegalHoldStatus="ON",
    )
    src = clouds.s3.head_object(Bucket=source, Key="runs/2026/12/07/entry.json")
    dst = clouds.dr.head_object(Bucket=replica, Key="runs/2026/12/07/entry.json")
    assert src["ReplicationStatus"] == "COMPLETED"
    assert dst["ReplicationStatus"] == "REPLICA"
    assert sha256(clouds.dr, replica, "runs/2026/12/07/entry.json") == hashlib.sha256(body).hexdigest()
    assert dst["ObjectLockMode"] == src["ObjectLockMode"] == "COMPLIANCE"
    assert dst["ObjectLockRetainUntilDate"] == src["ObjectLockRetainUntilDate"]
    assert src["ObjectLockRetainUntilDate"] > dt.datetime.now(dt.UTC) + dt.timedelta(hours=23)
    assert dst["ObjectLockLegalHoldStatus"] == src["ObjectLockLegalHoldStatus"] == "ON"
    assert dst["ContentType"] == "application/json" and dst["Metadata"] == src["Metadata"]
    assert dst["VersionId"] == put["VersionId"]  # S3 keeps the version id
    assert dst["SSEKMSKeyId"] == clouds.dr_kms_key  # the rule's replica key, not the source's
    assert dst["ETag"] == src["ETag"]


def test_a_key_outside_the_rules_prefix_is_not_replicated(clouds):
    source, replica = replicated_pair(clouds, "repl-prefix", Filter={"Prefix": "evidence/"})
    clouds.s3.put_object(Bucket=source, Key="evidence/in.json", Body=b"in")
    clouds.s3.put_object(Bucket=source, Key="scratch/out.json", Body=b"out")
    assert clouds.dr.head_object(Bucket=replica, Key="evidence/in.json")["ReplicationStatus"] == "REPLICA"
    assert head_or_none(clouds.dr, replica, "scratch/out.json") is None
    assert "ReplicationStatus" not in clouds.s3.head_object(Bucket=source, Key="scratch/out.json")


def test_a_tag_filter_selects_by_the_objects_tags(clouds):
    tag = {"Key": "class", "Value": "audit"}
    source, replica = replicated_pair(clouds, "repl-tag", Filter={"Tag": tag})
    clouds.s3.put_object(Bucket=source, Key="tagged", Body=b"t", Tagging="class=audit")
    clouds.s3.put_object(Bucket=source, Key="untagged", Body=b"u")
    assert head_or_none(clouds.dr, replica, "tagged") is not None
    assert clouds.dr.get_object_tagging(Bucket=replica, Key="tagged")["TagSet"] == [tag]
    assert head_or_none(clouds.dr, replica, "untagged") is None


def test_a_disabled_rule_does_not_replicate(clouds):
    source, replica = replicated_pair(clouds, "repl-disabled", Status="Disabled")
    clouds.s3.put_object(Bucket=source, Key="k.json", Body=b"x")
    assert head_or_none(clouds.dr, replica, "k.json") is None
    assert "ReplicationStatus" not in clouds.s3.head_object(Bucket=source, Key="k.json")


def test_sse_kms_objects_are_skipped_unless_the_rule_selects_them(clouds):
    source, replica = replicated_pair(clouds, "repl-nokms", SourceSelectionCriteria={})
    clouds.s3.put_object(Bucket=source, Key="k.json", Body=b"x")  # SSE-KMS by the bucket's default
    assert head_or_none(clouds.dr, replica, "k.json") is None


def test_a_multipart_upload_is_replicated(clouds):
    source, replica = replicated_pair(clouds, "repl-multipart")
    parts = [b"a" * (5 * 1024 * 1024), b"b" * 1024]  # moto's minimum part size is S3's: 5 MiB but the last
    upload = clouds.s3.create_multipart_upload(Bucket=source, Key="big.bin")["UploadId"]
    done = [
        {
            "PartNumber": n,
            "ETag": clouds.s3.upload_part(Bucket=source, Key="big.bin", UploadId=upload, PartNumber=n, Body=data)[
                "ETag"
            ],
        }
        for n, data in enumerate(parts, start=1)
    ]
    clouds.s3.complete_multipart_upload(Bucket=source, Key="big.bin", UploadId=upload, MultipartUpload={"Parts": done})
    dst = clouds.dr.head_object(Bucket=replica, Key="big.bin")
    assert dst["ReplicationStatus"] == "REPLICA" and dst["ObjectLockMode"] == "COMPLIANCE"
    assert sha256(clouds.dr, replica, "big.bin") == hashlib.sha256(b"".join(parts)).hexdigest()
    assert clouds.s3.head_object(Bucket=source, Key="big.bin")["ReplicationStatus"] == "COMPLETED"


def test_a_copy_into_the_source_is_replicated(clouds):
    source, replica = replicated_pair(clouds, "repl-copy")
    clouds.s3.put_object(Bucket=source, Key="a.json", Body=b"original")
    clouds.s3.copy_object(Bucket=source, Key="b.json", CopySource={"Bucket": source, "Key": "a.json"})
    assert sha256(clouds.dr, replica, "b.json") == hashlib.sha256(b"original").hexdigest()
    assert clouds.s3.head_object(Bucket=source, Key="b.json")["ReplicationStatus"] == "COMPLETED"


def test_a_compliance_locked_replica_cannot_be_deleted_early(clouds):
    source, replica = replicated_pair(clouds, "repl-worm")
    clouds.s3.put_object(Bucket=source, Key="k.json", Body=b"x")
    version = clouds.dr.head_object(Bucket=replica, Key="k.json")["VersionId"]
    with pytest.raises(ClientError) as refused:
        clouds.dr.delete_object(Bucket=replica, Key="k.json", VersionId=version, BypassGovernanceRetention=True)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        clouds.dr.put_object_retention(
            Bucket=replica,
            Key="k.json",
            VersionId=version,
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)},
        )
    assert sha256(clouds.dr, replica, "k.json", VersionId=version) == hashlib.sha256(b"x").hexdigest()


def test_lock_changes_on_the_source_reach_the_replica(clouds):
    source, replica = replicated_pair(clouds, "repl-change")
    version = clouds.s3.put_object(Bucket=source, Key="k.json", Body=b"x")["VersionId"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    clouds.s3.put_object_retention(
        Bucket=source, Key="k.json", VersionId=version, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later}
    )
    clouds.s3.put_object_legal_hold(Bucket=source, Key="k.json", VersionId=version, LegalHold={"Status": "ON"})
    dst = clouds.dr.head_object(Bucket=replica, Key="k.json")
    assert dst["ObjectLockRetainUntilDate"] == later and dst["ObjectLockLegalHoldStatus"] == "ON"


def test_delete_markers_replicate_only_when_the_rule_says_so(clouds):
    kept, kept_dr = replicated_pair(clouds, "repl-dm-off")  # the evidence rule: Disabled
    clouds.s3.put_object(Bucket=kept, Key="k.json", Body=b"x")
    clouds.s3.delete_object(Bucket=kept, Key="k.json")
    assert head_or_none(clouds.dr, kept_dr, "k.json") is not None
    gone, gone_dr = replicated_pair(clouds, "repl-dm-on", DeleteMarkerReplication={"Status": "Enabled"})
    clouds.s3.put_object(Bucket=gone, Key="k.json", Body=b"x")
    clouds.s3.delete_object(Bucket=gone, Key="k.json")
    assert head_or_none(clouds.dr, gone_dr, "k.json") is None
    versions = clouds.dr.list_object_versions(Bucket=gone_dr, Prefix="k.json")
    assert len(versions["DeleteMarkers"]) == 1 and len(versions["Versions"]) == 1  # the replica itself stays


def test_a_replica_is_not_replicated_again(clouds):
    first, second = replicated_pair(clouds, "repl-chain")
    third = bucket(clouds.dr, "repl-chain-third", clouds.dr_kms_key)
    rule = evidence_rule(third, clouds.dr_kms_key)
    clouds.dr.put_bucket_replication(Bucket=second, ReplicationConfiguration={"Role": ROLE, "Rules": [rule]})
    clouds.s3.put_object(Bucket=first, Key="k.json", Body=b"x")
    assert head_or_none(clouds.dr, second, "k.json") is not None
    assert head_or_none(clouds.dr, third, "k.json") is None


def test_replication_to_a_missing_or_unversioned_bucket_fails_the_object_not_the_put(clouds):
    source = bucket(clouds.s3, "repl-missing-primary", clouds.kms_key)
    rule = evidence_rule("repl-no-such-bucket", clouds.dr_kms_key)
    clouds.s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": ROLE, "Rules": [rule]})
    assert clouds.s3.put_object(Bucket=source, Key="k.json", Body=b"x")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert clouds.s3.head_object(Bucket=source, Key="k.json")["ReplicationStatus"] == "FAILED"

    plain = bucket(clouds.dr, "repl-unversioned-dr", None, lock=False, versioned=False)
    rule = evidence_rule(plain, clouds.dr_kms_key)
    clouds.s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": ROLE, "Rules": [rule]})
    clouds.s3.put_object(Bucket=source, Key="k2.json", Body=b"x")
    assert clouds.s3.head_object(Bucket=source, Key="k2.json")["ReplicationStatus"] == "FAILED"
    assert head_or_none(clouds.dr, plain, "k2.json") is None


def test_a_locked_object_is_not_replicated_to_a_bucket_without_object_lock(clouds):
    source = bucket(clouds.s3, "repl-nolock-primary", clouds.kms_key)
    target = bucket(clouds.dr, "repl-nolock-dr", clouds.dr_kms_key, lock=False)
    rule = evidence_rule(target, clouds.dr_kms_key)
    clouds.s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": ROLE, "Rules": [rule]})
    clouds.s3.put_object(Bucket=source, Key="k.json", Body=b"x")
    assert clouds.s3.head_object(Bucket=source, Key="k.json")["ReplicationStatus"] == "FAILED"
    assert head_or_none(clouds.dr, target, "k.json") is None
