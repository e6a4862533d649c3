"""WORM attack suite: every way to destroy a locked evidence version that S3 refuses, tried on the emulator.

One patched emulator for the module (started the way infractl starts it), with buckets configured like
terraform/modules/aws/evidence: Object Lock on, versioning on, default retention (COMPLIANCE, and a GOVERNANCE one
where an attack needs it), SSE-KMS and the TLS-only bucket policy. moto's IAM enforcement is switched on for this
emulator (`/moto-api/reset-auth`), so requests are made by two IAM users: `evidence-admin` (s3:*, the allowed
principal) and `evidence-writer` (s3:* except s3:PutObjectLegalHold and s3:BypassGovernanceRetention).

Each attack is a named case: steps S3 allows (expected None) and the step S3 refuses (its error code and status).
The last test prints `WORM attacks: N tried, N refused, 0 locked versions lost` and asserts it (pytest -s shows it).
Lifecycle expiration is not an attack here: moto never runs lifecycle rules (docs/emulator.md, "Object Lock").
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from infractl.adapters import emulator
from infractl.adapters.aws import tls_only_policy

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
COMPLIANCE = "worm-evidence-compliance"
GOVERNANCE = "worm-evidence-governance"
HOLD_ONLY = "worm-evidence-hold-only"  # lock enabled, no default retention: only a legal hold protects
ACCESS_DENIED = ("AccessDenied", 403)
INVALID_ARGUMENT = ("InvalidArgument", 400)
ALL_S3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
WRITER_DENIED = ["s3:PutObjectLegalHold", "s3:BypassGovernanceRetention"]

Step = tuple[str, Callable[[], Any], tuple[str, int] | None]


@dataclass
class Ledger:
    outcomes: dict[str, str] = field(default_factory=dict)  # attack -> "refused: …" / "allowed"
    protected: list[tuple[str, str, str, bytes]] = field(default_factory=list)  # bucket, key, version, body


LEDGER = Ledger()


@dataclass
class Worm:
    admin: Any  # evidence-admin: s3:*, may bypass governance and change legal holds
    writer: Any  # evidence-writer: s3:* but no legal hold change and no governance bypass

    def locked(self, bucket: str, key: str, **extra: Any) -> str:
        """Upload one evidence version that must survive every attack; returns its version id."""
        body = f"evidence {bucket}/{key}".encode()
        version = self.admin.put_object(Bucket=bucket, Key=key, Body=body, **extra)["VersionId"]
        LEDGER.protected.append((bucket, key, version, body))
        return str(version)

    def delete(self, bucket: str, key: str, version: str, client: Any = None, **extra: Any) -> Callable[[], Any]:
        return lambda: (client or self.admin).delete_object(Bucket=bucket, Key=key, VersionId=version, **extra)

    def delete_new(self, bucket: str, key: str, answer: dict[str, Any]) -> Callable[[], Any]:
        """Delete the version an earlier step created (its answer lands in `answer`)."""
        return lambda: self.admin.delete_object(Bucket=bucket, Key=key, VersionId=answer["VersionId"])

    def retain(self, bucket: str, key: str, version: str, mode: str | None, hours: float = 0, **extra: Any) -> Any:
        """PutObjectRetention to `mode` until `hours` from now (no mode: an empty retention); client= picks who."""
        client = extra.pop("client", self.admin)
        retention = {"Mode": mode, "RetainUntilDate": _now() + dt.timedelta(hours=hours)} if mode else {}
        return lambda: client.put_object_retention(
            Bucket=bucket, Key=key, VersionId=version, Retention=retention, **extra
        )

    def hold(self, bucket: str, key: str, version: str, status: str, client: Any = None) -> Callable[[], Any]:
        return lambda: (client or self.admin).put_object_legal_hold(
            Bucket=bucket, Key=key, VersionId=version, LegalHold={"Status": status}
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _client(state: emulator.EmulatorState, service: str, key: str, secret: str) -> Any:
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=15, s3={"addressing_style": "path"})
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=state.url,
        verify=state.ca_file,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=config,
    )


def _user(iam: Any, name: str, statements: list[dict[str, Any]]) -> tuple[str, str]:
    iam.create_user(UserName=name)
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
    iam.put_user_policy(UserName=name, PolicyName="evidence", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _enforce_iam(state: emulator.EmulatorState) -> None:
    """From now on every request is authenticated and authorised by moto's IAM engine (moto's server API)."""
    import ssl

    request = urllib.request.Request(
        f"{state.url}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=state.ca_file)) as answer:
        assert answer.status == 200


def _evidence_bucket(s3: Any, name: str, kms_key: str, mode: str | None) -> None:
    """A bucket as modules/aws/evidence makes it."""
    s3.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectLockEnabledForBucket=True
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    rule = {"Rule": {"DefaultRetention": {"Mode": mode, "Days": 1}}} if mode else {}
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", **rule})
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(tls_only_policy(name)))


@pytest.fixture(scope="module")
def worm(tmp_path_factory) -> Iterator[Worm]:
    data_dir: Path = tmp_path_factory.mktemp("worm-emulator")
    state, _ = emulator.start(data_dir)
    try:
        root = emulator.FAKE_ACCESS_KEY, emulator.FAKE_SECRET_KEY
        iam = _client(state, "iam", *root)
        admin_key = _user(iam, "evidence-admin", [ALL_S3])
        writer_key = _user(
            iam, "evidence-writer", [ALL_S3, {"Effect": "Deny", "Action": WRITER_DENIED, "Resource": "*"}]
        )
        kms_key = _client(state, "kms", *root).create_key(Description="evidence")["KeyMetadata"]["Arn"]
        _enforce_iam(state)
        admin = _client(state, "s3", *admin_key)
        for name, mode in ((COMPLIANCE, "COMPLIANCE"), (GOVERNANCE, "GOVERNANCE"), (HOLD_ONLY, None)):
            _evidence_bucket(admin, name, kms_key, mode)
        yield Worm(admin=admin, writer=_client(state, "s3", *writer_key))
    finally:
        emulator.stop(data_dir)


def attack(name: str, *steps: Step) -> None:
    """Run the steps. The attack is refused when the first step S3 refuses fails here too, with S3's error.

    When that step goes through, the remaining steps still run (their errors ignored), so the final count shows
    what the attacker achieved: the locked versions lost.
    """
    failure = None
    for what, call, expected in steps:
        try:
            call()
        except ClientError as e:
            got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
            if failure is not None:
                continue
            LEDGER.outcomes[name] = f"refused at {what!r}: {got[0]} {got[1]}"
            assert expected is not None, f"{name}: {what!r} refused with {got}; S3 allows it"
            assert got == expected, f"{name}: {what!r} refused with {got}; S3 answers {expected}"
            return
        if expected is not None and failure is None:
            failure = f"{name}: {what!r} allowed; S3 refuses it with {expected}"
            LEDGER.outcomes[name] = f"ALLOWED at {what!r}"
    pytest.fail(failure or f"{name}: every step allowed")


BYPASS = {"BypassGovernanceRetention": True}


# --- COMPLIANCE: nobody deletes or shortens ---------------------------------------------------------------------


def test_delete_a_locked_version(worm):
    v = worm.locked(COMPLIANCE, "delete")
    attack("delete a locked version", ("delete version", worm.delete(COMPLIANCE, "delete", v), ACCESS_DENIED))


def test_overwrite_keeps_the_locked_version_and_locks_the_new_one(worm):
    worm.locked(COMPLIANCE, "overwrite")
    new: dict[str, Any] = {}
    attack(
        "overwrite, then delete the new version",
        ("overwrite", lambda: new.update(worm.admin.put_object(Bucket=COMPLIANCE, Key="overwrite", Body=b"x")), None),
        ("delete new version", worm.delete_new(COMPLIANCE, "overwrite", new), ACCESS_DENIED),
    )


def test_shorten_compliance_retention_to_an_earlier_date(worm):
    v = worm.locked(COMPLIANCE, "shorten")
    attack(
        "shorten COMPLIANCE retention, then delete",
        ("shorten", worm.retain(COMPLIANCE, "shorten", v, "COMPLIANCE", hours=1), ACCESS_DENIED),
        ("delete version", worm.delete(COMPLIANCE, "shorten", v), ACCESS_DENIED),
    )


def test_shorten_compliance_retention_to_the_past_then_delete(worm):
    v = worm.locked(COMPLIANCE, "past")
    attack(
        "set COMPLIANCE retention in the past, then delete",
        ("retain until yesterday", worm.retain(COMPLIANCE, "past", v, "COMPLIANCE", hours=-24), INVALID_ARGUMENT),
        ("delete version", worm.delete(COMPLIANCE, "past", v), ACCESS_DENIED),
    )


def test_remove_compliance_retention(worm):
    v = worm.locked(COMPLIANCE, "remove-retention")
    attack(
        "remove COMPLIANCE retention, then delete",
        ("empty retention", worm.retain(COMPLIANCE, "remove-retention", v, None), ACCESS_DENIED),
        ("delete version", worm.delete(COMPLIANCE, "remove-retention", v), ACCESS_DENIED),
    )


def test_switch_compliance_to_governance_then_bypass(worm):
    v = worm.locked(COMPLIANCE, "switch")
    attack(
        "switch COMPLIANCE to GOVERNANCE, then delete with bypass",
        ("switch mode", worm.retain(COMPLIANCE, "switch", v, "GOVERNANCE", hours=48, **BYPASS), ACCESS_DENIED),
        ("delete with bypass", worm.delete(COMPLIANCE, "switch", v, **BYPASS), ACCESS_DENIED),
    )


def test_delete_with_the_bypass_header_in_compliance(worm):
    v = worm.locked(COMPLIANCE, "bypass")
    attack("bypass header in COMPLIANCE", ("delete", worm.delete(COMPLIANCE, "bypass", v, **BYPASS), ACCESS_DENIED))


def test_upload_with_a_retain_until_date_in_the_past(worm):
    new: dict[str, Any] = {}
    lock = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": _now() - dt.timedelta(days=1)}
    attack(
        "upload retained until the past, then delete",
        (
            "upload",
            lambda: new.update(worm.admin.put_object(Bucket=COMPLIANCE, Key="past-upload", **lock)),
            INVALID_ARGUMENT,
        ),
        ("delete version", worm.delete_new(COMPLIANCE, "past-upload", new), ACCESS_DENIED),
    )


def test_upload_with_a_lock_mode_and_no_date(worm):
    upload = partial(worm.admin.put_object, Bucket=COMPLIANCE, Key="mode-only", ObjectLockMode="COMPLIANCE")
    attack("upload with a lock mode and no date", ("upload", upload, INVALID_ARGUMENT))


def test_a_legal_hold_upload_gets_the_default_retention(worm):
    v = worm.locked(COMPLIANCE, "hold-default", ObjectLockLegalHoldStatus="ON")
    attack(
        "legal-hold upload, release the hold, delete",
        ("release hold", worm.hold(COMPLIANCE, "hold-default", v, "OFF"), None),
        ("delete version", worm.delete(COMPLIANCE, "hold-default", v), ACCESS_DENIED),
    )


def test_delete_objects_in_a_batch(worm):
    v = worm.locked(COMPLIANCE, "batch")

    def batch() -> None:
        objects = {"Objects": [{"Key": "batch", "VersionId": v}]}
        for error in worm.admin.delete_objects(Bucket=COMPLIANCE, Delete=objects, **BYPASS).get("Errors", []):
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}, "DeleteObjects")

    attack("DeleteObjects with version ids (and bypass)", ("batch delete", batch, ACCESS_DENIED))


def test_copy_over_a_locked_key(worm):
    worm.locked(COMPLIANCE, "copy")
    source = {"Bucket": COMPLIANCE, "Key": "copy-source", "VersionId": worm.locked(COMPLIANCE, "copy-source")}
    new: dict[str, Any] = {}
    attack(
        "copy over a locked key, then delete the copy",
        ("copy", lambda: new.update(worm.admin.copy_object(Bucket=COMPLIANCE, Key="copy", CopySource=source)), None),
        ("delete the copy", worm.delete_new(COMPLIANCE, "copy", new), ACCESS_DENIED),
    )


def test_complete_a_multipart_upload_over_a_locked_key(worm):
    worm.locked(COMPLIANCE, "multipart")
    new: dict[str, Any] = {}
    at = {"Bucket": COMPLIANCE, "Key": "multipart"}

    def multipart() -> None:
        upload = worm.admin.create_multipart_upload(**at)["UploadId"]
        part = worm.admin.upload_part(**at, UploadId=upload, PartNumber=1, Body=b"x")
        parts = {"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]}
        new.update(worm.admin.complete_multipart_upload(**at, UploadId=upload, MultipartUpload=parts))

    attack(
        "multipart upload over a locked key, then delete it",
        ("complete", multipart, None),
        ("delete the upload", worm.delete_new(COMPLIANCE, "multipart", new), ACCESS_DENIED),
    )


# --- the bucket: it stays locked, versioned and undeletable -----------------------------------------------------


def test_delete_the_bucket(worm):
    worm.locked(COMPLIANCE, "bucket")
    delete = partial(worm.admin.delete_bucket, Bucket=COMPLIANCE)
    attack("delete the bucket", ("delete bucket", delete, ("BucketNotEmpty", 409)))


def test_disable_object_lock(worm):
    put = partial(worm.admin.put_object_lock_configuration, Bucket=COMPLIANCE)
    disable = partial(put, ObjectLockConfiguration={"ObjectLockEnabled": "Disabled"})
    attack("disable Object Lock", ("disable", disable, ("MalformedXML", 400)))


def test_remove_the_default_retention_then_delete(worm):
    v = worm.locked(COMPLIANCE, "no-default")
    put = partial(worm.admin.put_object_lock_configuration, Bucket=COMPLIANCE)
    try:
        attack(
            "remove the default retention rule, then delete",
            ("remove rule", partial(put, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}), None),
            ("delete version", worm.delete(COMPLIANCE, "no-default", v), ACCESS_DENIED),
        )
    finally:
        rule = {"Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}}
        put(ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", **rule})


def test_suspend_versioning(worm):
    suspend = partial(
        worm.admin.put_bucket_versioning, Bucket=COMPLIANCE, VersioningConfiguration={"Status": "Suspended"}
    )
    attack("suspend versioning", ("suspend", suspend, ("InvalidBucketState", 409)))


def test_a_policy_allowing_deletes_then_delete(worm):
    v = worm.locked(COMPLIANCE, "policy")
    allow = {
        "Version": "2012-10-17",
        "Statement": [{**ALL_S3, "Principal": "*", "Resource": f"arn:aws:s3:::{COMPLIANCE}/*"}],
    }
    try:
        attack(
            "bucket policy allowing deletes, then delete",
            ("allow deletes", partial(worm.admin.put_bucket_policy, Bucket=COMPLIANCE, Policy=json.dumps(allow)), None),
            ("delete with bypass", worm.delete(COMPLIANCE, "policy", v, **BYPASS), ACCESS_DENIED),
        )
    finally:
        worm.admin.put_bucket_policy(Bucket=COMPLIANCE, Policy=json.dumps(tls_only_policy(COMPLIANCE)))


# --- GOVERNANCE and legal holds: only the allowed principal, only with the header --------------------------------


def test_governance_delete_without_the_bypass_header(worm):
    v = worm.locked(GOVERNANCE, "no-header")
    attack("GOVERNANCE delete without bypass", ("delete", worm.delete(GOVERNANCE, "no-header", v), ACCESS_DENIED))


def test_governance_delete_with_a_false_bypass_header(worm):
    v = worm.locked(GOVERNANCE, "false")
    delete = worm.delete(GOVERNANCE, "false", v, BypassGovernanceRetention=False)
    attack("GOVERNANCE delete with bypass=false", ("delete", delete, ACCESS_DENIED))


def test_governance_bypass_without_permission(worm):
    v = worm.locked(GOVERNANCE, "writer-bypass")
    delete = worm.delete(GOVERNANCE, "writer-bypass", v, client=worm.writer, **BYPASS)
    attack("GOVERNANCE bypass without s3:BypassGovernanceRetention", ("delete", delete, ACCESS_DENIED))


def test_governance_shorten_without_bypass(worm):
    v = worm.locked(GOVERNANCE, "gov-shorten")
    shorten = worm.retain(GOVERNANCE, "gov-shorten", v, "GOVERNANCE", hours=1)
    attack("shorten GOVERNANCE retention without bypass", ("shorten", shorten, ACCESS_DENIED))


def test_governance_shorten_with_bypass_without_permission(worm):
    v = worm.locked(GOVERNANCE, "gov-writer")
    shorten = worm.retain(GOVERNANCE, "gov-writer", v, "GOVERNANCE", hours=1, client=worm.writer, **BYPASS)
    attack("shorten GOVERNANCE retention with bypass, without permission", ("shorten", shorten, ACCESS_DENIED))


def test_remove_a_legal_hold_without_permission(worm):
    v = worm.locked(HOLD_ONLY, "held", ObjectLockLegalHoldStatus="ON")
    attack(
        "remove a legal hold without s3:PutObjectLegalHold, then delete",
        ("release hold", worm.hold(HOLD_ONLY, "held", v, "OFF", client=worm.writer), ACCESS_DENIED),
        ("delete version", worm.delete(HOLD_ONLY, "held", v, client=worm.writer), ACCESS_DENIED),
    )


def test_delete_a_version_under_legal_hold(worm):
    v = worm.locked(HOLD_ONLY, "held-delete", ObjectLockLegalHoldStatus="ON")
    delete = worm.delete(HOLD_ONLY, "held-delete", v, **BYPASS)
    attack("delete a version under legal hold (with bypass)", ("delete", delete, ACCESS_DENIED))


# --- what S3 allows, and must still work --------------------------------------------------------------------------


def test_legal_hold_lifecycle_set_refuse_release_dispose(worm):
    until = _now() + dt.timedelta(seconds=3)
    lock = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": until}
    v = worm.admin.put_object(Bucket=COMPLIANCE, Key="lifecycle", **lock)["VersionId"]
    worm.hold(COMPLIANCE, "lifecycle", v, "ON")()
    assert worm.admin.get_object_legal_hold(Bucket=COMPLIANCE, Key="lifecycle", VersionId=v)["LegalHold"] == {
        "Status": "ON"
    }
    with pytest.raises(ClientError, match="AccessDenied"):
        worm.delete(COMPLIANCE, "lifecycle", v)()
    worm.hold(COMPLIANCE, "lifecycle", v, "OFF")()
    with pytest.raises(ClientError, match="AccessDenied"):
        worm.delete(COMPLIANCE, "lifecycle", v)()
    while _now() <= until + dt.timedelta(seconds=1):
        time.sleep(0.5)
    worm.delete(COMPLIANCE, "lifecycle", v)()  # disposal once the retention has passed
    versions = worm.admin.list_object_versions(Bucket=COMPLIANCE, Prefix="lifecycle").get("Versions", [])
    assert v not in [x["VersionId"] for x in versions]


def test_the_allowed_principal_bypasses_governance(worm):
    v = worm.admin.put_object(Bucket=GOVERNANCE, Key="allowed", Body=b"x")["VersionId"]
    worm.retain(GOVERNANCE, "allowed", v, "GOVERNANCE", hours=1, **BYPASS)()
    worm.delete(GOVERNANCE, "allowed", v, **BYPASS)()


def test_compliance_retention_can_be_extended(worm):
    v = worm.admin.put_object(Bucket=COMPLIANCE, Key="extend", Body=b"x")["VersionId"]
    worm.retain(COMPLIANCE, "extend", v, "COMPLIANCE", hours=72)()
    head = worm.admin.head_object(Bucket=COMPLIANCE, Key="extend", VersionId=v)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > _now() + dt.timedelta(hours=71)


def test_the_default_retention_of_a_non_empty_bucket_changes(worm):
    rule = {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2}}
    config = {"ObjectLockEnabled": "Enabled", "Rule": rule}
    worm.admin.put_object_lock_configuration(Bucket=GOVERNANCE, ObjectLockConfiguration=config)
    got = worm.admin.get_object_lock_configuration(Bucket=GOVERNANCE)["ObjectLockConfiguration"]
    assert {**got["Rule"]["DefaultRetention"], "Years": 0} == {
        "Mode": "COMPLIANCE",
        "Days": 2,
        "Years": 0,
    }  # moto adds Years
    v = worm.admin.put_object(Bucket=GOVERNANCE, Key="new-default", Body=b"x")["VersionId"]
    assert worm.admin.head_object(Bucket=GOVERNANCE, Key="new-default", VersionId=v)["ObjectLockMode"] == "COMPLIANCE"


# --- the count ------------------------------------------------------------------------------------------------------


def test_every_attack_refused_and_no_locked_version_lost(worm):
    lost = []
    for bucket, key, version, body in LEDGER.protected:
        try:
            read = worm.admin.get_object(Bucket=bucket, Key=key, VersionId=version)
        except ClientError:
            lost.append(f"{bucket}/{key}@{version}")
            continue
        if read["Body"].read() != body or not (
            read.get("ObjectLockMode") or read.get("ObjectLockLegalHoldStatus") == "ON"
        ):
            lost.append(f"{bucket}/{key}@{version}")
    refused = [name for name, outcome in LEDGER.outcomes.items() if outcome.startswith("refused")]
    for name, outcome in LEDGER.outcomes.items():
        print(f"  {name}: {outcome}")
    print(
        f"WORM attacks: {len(LEDGER.outcomes)} tried, {len(refused)} refused,"
        f" {len(lost)} locked versions lost (of {len(LEDGER.protected)})"
    )
    assert len(LEDGER.outcomes) >= 23
    assert (len(refused), lost) == (len(LEDGER.outcomes), [])
