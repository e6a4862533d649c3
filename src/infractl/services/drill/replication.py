"""The DR drill's evidence part: every evidence object in the primary bucket is in the DR-region bucket, equal.

Three timed steps (docs/drills.md):
- `evidence.configuration`: the primary bucket is versioned and has an Enabled replication rule to the DR bucket
  (selecting SSE-KMS objects when the bucket encrypts with KMS); the DR bucket is versioned with Object Lock;
- `evidence.probe`: one small locked object is written under `drills/replication-probe/` and awaited in the DR
  bucket (bounded by `timeout_s`); its lag is measured (on the emulator, which replicates synchronously, ~0 s);
- `evidence.compare`: the current version of every key in the primary (ListObjectsV2, under `prefix`) must be in
  the DR bucket with the same body (SHA-256 of both bodies, streamed), lock mode, retain-until date and legal hold,
  and be a replica (ReplicationStatus REPLICA). Four objects are read at a time.

The current versions are listed with ListObjectsV2, not ListObjectVersions: the evidence buckets keep every
version for the retention period, the DR copy of the *current* state is what a recovery restores, and S3 replicates
each new version as it is written, so a current version that matches means the replication of that key kept up.
The DR bucket is only read; the primary only gets the probe object (the evidence already there is never touched).
"""

from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from infractl.adapters import s3replica, worm
from infractl.adapters.s3replica import BucketSetup, ObjectCopy
from infractl.models.drill import PartResult
from infractl.services.drill.steps import Progress, Steps

__all__ = ["PROBE_PREFIX", "check", "configuration_problems", "differences"]

PROBE_PREFIX = "drills/replication-probe/"
FIX_STACK = "apply the evidence stack: infractl apply <env> --stack evidence"
FIX_GAP = (
    "replication gap: check the replication rule and its role; objects written while replication was off are not"
    " replicated — re-copy them with S3 Batch Replication"
)
FIX_MISMATCH = (
    "the DR copy was written or changed outside replication: find who wrote to the DR bucket, then re-copy the"
    " source versions with S3 Batch Replication"
)
SHOWN = 10  # keys named in a failure reason
WORKERS = 4


def _destination(rule: dict[str, Any]) -> str:
    arn = str((rule.get("Destination") or {}).get("Bucket") or "")
    return arn.split(":::", 1)[1] if ":::" in arn else arn


def configuration_problems(primary: BucketSetup, replica: BucketSetup) -> list[str]:
    """What keeps the primary's objects from being replicated, locked, to the replica (empty: nothing)."""
    out: list[str] = []
    if not primary.exists:
        return [f"the evidence bucket {primary.bucket} does not exist ({FIX_STACK})"]
    if primary.versioning != "Enabled":
        out.append(
            f"versioning of the evidence bucket {primary.bucket} is {primary.versioning or 'off'}: S3 replicates only"
            f" from a versioned bucket ({FIX_STACK})"
        )
    rules = [r for r in primary.rules if _destination(r) == replica.bucket]
    enabled = [r for r in rules if r.get("Status") == "Enabled"]
    if primary.replication is None:
        out.append(f"the evidence bucket {primary.bucket} has no replication configuration ({FIX_STACK})")
    elif not enabled:
        named = ", ".join(f"{r.get('ID', '?')} -> {_destination(r)} ({r.get('Status')})" for r in primary.rules)
        out.append(
            f"no Enabled replication rule of {primary.bucket} has the DR bucket {replica.bucket} as its destination"
            f" (rules: {named or 'none'}; {FIX_STACK})"
        )
    elif primary.encryption == "aws:kms" and not any(_selects_sse_kms(r) for r in enabled):
        out.append(
            f"the replication rule of {primary.bucket} does not select SSE-KMS objects, and the bucket encrypts every"
            f" object with KMS: S3 replicates none of them ({FIX_STACK})"
        )
    if not replica.exists:
        out.append(f"the DR bucket {replica.bucket} does not exist ({FIX_STACK})")
        return out
    if replica.versioning != "Enabled":
        out.append(f"versioning of the DR bucket {replica.bucket} is {replica.versioning or 'off'} ({FIX_STACK})")
    if not replica.object_lock:
        out.append(
            f"the DR bucket {replica.bucket} has no Object Lock: replicas of locked evidence are refused there, and"
            f" could be deleted (Object Lock is enabled only when a bucket is created: {FIX_STACK})"
        )
    return out


def _selects_sse_kms(rule: dict[str, Any]) -> bool:
    criteria = (rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects") or {}
    return criteria.get("Status") == "Enabled"


def differences(source: ObjectCopy, copy: ObjectCopy) -> list[str]:
    """The fields in which a DR copy differs from its source (both exist)."""
    out = []
    if copy.sha256 != source.sha256:
        out.append("body SHA-256")
    if copy.mode != source.mode:
        out.append(f"lock mode {copy.mode or 'none'} != {source.mode or 'none'}")
    if copy.retain_until != source.retain_until:
        out.append("retain-until date")
    if copy.legal_hold != source.legal_hold:
        out.append(f"legal hold {copy.legal_hold} != {source.legal_hold}")
    if copy.replication_status != "REPLICA":
        out.append("not a replica")
    return out


def _named(keys: list[str]) -> str:
    shown = ", ".join(keys[:SHOWN])
    return shown + (f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else "")


def _probe(steps: Steps, primary: Any, replica: Any, setup: BucketSetup, replica_bucket: str, timeout_s: float) -> None:
    with steps.step("probe") as t:
        now = datetime.now(UTC)
        key = f"{PROBE_PREFIX}{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}.json"
        data = json.dumps({"probe": key, "written_at": now.isoformat(timespec="seconds")}).encode()
        if setup.default_retention:
            version = worm.put(primary, setup.bucket, key, data, mode=None, retain_until=None)  # its default
        else:
            version = worm.put(
                primary, setup.bucket, key, data, mode="COMPLIANCE", retain_until=now + timedelta(days=1)
            )
        written = time.monotonic()
        t.facts.update(key=key, version_id=version)
        arrived, status, pause = False, "", 0.2
        while True:
            arrived = s3replica.status_of(replica, replica_bucket, key) is not None
            waited = time.monotonic() - written
            if arrived:
                break
            status = s3replica.status_of(primary, setup.bucket, key, version) or ""
            if status == "FAILED" or waited >= timeout_s:
                break
            time.sleep(min(pause, max(0.0, timeout_s - waited)))
            pause = min(pause * 2, 2.0)
        t.facts["lag_seconds"] = round(waited, 3)
        if not arrived:
            why = "S3 marked its replication FAILED" if status == "FAILED" else f"not there after {timeout_s:.0f} s"
            steps.fail(
                "probe",
                f"the probe object {key} did not reach the DR bucket {replica_bucket}: {why} (source"
                f" ReplicationStatus {status or 'none'}; {FIX_GAP})",
                key=key,
                version_id=version,
                waited_seconds=round(waited, 3),
                source_status=status,
            )
        t.detail = f"{key} replicated in {waited:.1f} s"


def _compare(steps: Steps, primary: Any, replica: Any, primary_bucket: str, replica_bucket: str, prefix: str) -> None:
    with steps.step("compare") as t:
        started = time.monotonic()
        listed = list(s3replica.current_objects(primary, primary_bucket, prefix))

        def pair(key: str) -> tuple[ObjectCopy, ObjectCopy]:
            return s3replica.read(primary, primary_bucket, key), s3replica.read(replica, replica_bucket, key)

        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="evidence-compare") as pool:
            pairs = list(pool.map(pair, [item.key for item in listed]))
        missing: list[str] = []
        mismatched: dict[str, list[str]] = {}
        compared, total = 0, 0
        for source, copy in pairs:
            if not source.exists:
                continue  # deleted since it was listed
            compared, total = compared + 1, total + source.size
            if not copy.exists:
                missing.append(source.key)
            elif fields := differences(source, copy):
                mismatched[source.key] = fields
        seconds = round(time.monotonic() - started, 3)
        facts: dict[str, Any] = dict(
            objects=compared, bytes=total, missing=len(missing), mismatched=len(mismatched), seconds=seconds
        )
        t.facts.update(facts)
        reasons = []
        if missing:
            reasons.append(
                f"{len(missing)} of {compared} evidence objects are missing in the DR bucket {replica_bucket}:"
                f" {_named(missing)} ({FIX_GAP})"
            )
        if mismatched:
            described = [f"{k} ({', '.join(v)})" for k, v in mismatched.items()]
            reasons.append(
                f"{len(mismatched)} of {compared} evidence objects differ in the DR bucket {replica_bucket}:"
                f" {_named(described)} ({FIX_MISMATCH})"
            )
        if reasons:
            details = dict(missing_keys=missing[:SHOWN], mismatched_keys=dict(list(mismatched.items())[:SHOWN]))
            steps.fail("compare", "; ".join(reasons), **facts, **details)
        t.detail = f"{compared} object{'' if compared == 1 else 's'} ({total} bytes) equal in {replica_bucket}"


def check(
    primary: Any,
    replica: Any,
    primary_bucket: str,
    replica_bucket: str,
    *,
    progress: Progress,
    probe: bool = True,
    timeout_s: float = 60.0,
    prefix: str = "",
) -> PartResult:
    """The evidence part of `infractl drill dr`: configuration, a probe's replication lag, every object compared.

    `primary` and `replica` are S3 clients (the replica's in the DR region). A problem found fails its step with the
    reason and the fix, and ends the part there."""
    steps = Steps(prefix="evidence", progress=progress)
    with steps.part():
        with steps.step("configuration") as t:
            source, target = s3replica.setup(primary, primary_bucket), s3replica.setup(replica, replica_bucket)
            rules = [r for r in source.rules if _destination(r) == replica_bucket and r.get("Status") == "Enabled"]
            problems = configuration_problems(source, target)
            if problems:
                steps.fail("configuration", "; ".join(problems), primary=primary_bucket, replica=replica_bucket)
            rule = rules[0]
            t.facts.update(
                rule=rule.get("ID", ""),
                delete_marker_replication=(rule.get("DeleteMarkerReplication") or {}).get("Status", "Disabled"),
                replica_lock=(target.default_retention or {}).get("Mode", ""),
            )
            t.detail = f"{primary_bucket} -> {replica_bucket} (rule {rule.get('ID', '?')})"
        if probe:
            _probe(steps, primary, replica, source, replica_bucket, timeout_s)
        else:
            with steps.step("probe") as t:
                t.skipped = "not asked for"
        _compare(steps, primary, replica, primary_bucket, replica_bucket, prefix)
    return PartResult(part="evidence", steps=steps.steps)
