"""The evidence bucket: an S3 bucket with versioning and Object Lock (terraform/modules/aws/evidence; locally the
dev stack's S3, the patched emulator, which enforces Object Lock as S3 does: docs/emulator.md).

Every object is written with a SHA-256 checksum S3 computes and checks on upload, so HEAD answers an object's
hash without reading it; every read and delete names a version: what the ledger pinned is what is checked."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infractl.adapters.aws import call, error_code
from infractl.errors import CloudError, RefusedError

LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")


@dataclass(frozen=True)
class ObjectState:
    key: str
    version_id: str
    exists: bool
    sha256: str = ""  # hex, from the stored checksum
    mode: str = ""  # COMPLIANCE | GOVERNANCE | "" (no retention)
    retain_until: datetime | None = None
    legal_hold: bool = False
    delete_marker: bool = False


def put(
    s3: Any,
    bucket: str,
    key: str,
    data: bytes,
    *,
    mode: str | None,
    retain_until: datetime | None,
    content_type: str = "application/json",
    legal_hold: bool = False,
) -> str:
    """PUT a locked object: `mode` until `retain_until`, or by the bucket's default retention when mode is None;
    its version id."""
    extra: dict[str, Any] = {"ObjectLockMode": mode, "ObjectLockRetainUntilDate": retain_until} if mode else {}
    if legal_hold:
        extra["ObjectLockLegalHoldStatus"] = "ON"
    answer = call(
        f"s3:PutObject {bucket}/{key}",
        s3.put_object,
        Bucket=bucket,
        Key=key,
        Body=data,
        ContentType=content_type,
        ChecksumAlgorithm="SHA256",
        **extra,
    )
    version = answer.get("VersionId")
    if not version:
        raise CloudError(f"s3:PutObject {bucket}/{key}: no version id: is the bucket versioned with Object Lock?")
    return str(version)


def head(s3: Any, bucket: str, key: str, version_id: str) -> ObjectState:
    from botocore.exceptions import ClientError

    try:
        answer = s3.head_object(Bucket=bucket, Key=key, VersionId=version_id, ChecksumMode="ENABLED")
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchKey", "NoSuchVersion", "NotFound"):
            return ObjectState(key, version_id, exists=False)
        if error_code(exc) == "405":  # a delete marker's version
            return ObjectState(key, version_id, exists=False, delete_marker=True)
        raise CloudError(f"s3:HeadObject {bucket}/{key}?versionId={version_id}: {error_code(exc)}") from None
    checksum = answer.get("ChecksumSHA256") or ""
    return ObjectState(
        key,
        version_id,
        exists=True,
        sha256=base64.b64decode(checksum).hex() if checksum else "",
        mode=answer.get("ObjectLockMode") or "",
        retain_until=answer.get("ObjectLockRetainUntilDate"),
        legal_hold=answer.get("ObjectLockLegalHoldStatus") == "ON",
    )


def get(s3: Any, bucket: str, key: str, version_id: str | None = None) -> bytes:
    kwargs = {"VersionId": version_id} if version_id else {}
    body = call(f"s3:GetObject {bucket}/{key}", s3.get_object, Bucket=bucket, Key=key, **kwargs)["Body"]
    return bytes(body.read())


def keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every key under `prefix` (current versions)."""
    found: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend(o["Key"] for o in page.get("Contents", []))
    return found


def versions(s3: Any, bucket: str, key: str) -> list[str]:
    """Every version id of `key`, newest first (delete markers left out)."""
    answer = call(f"s3:ListObjectVersions {bucket}/{key}", s3.list_object_versions, Bucket=bucket, Prefix=key)
    return [v["VersionId"] for v in answer.get("Versions", []) if v["Key"] == key]


def legal_hold(s3: Any, bucket: str, key: str, version_id: str, on: bool) -> None:
    call(
        f"s3:PutObjectLegalHold {bucket}/{key}",
        s3.put_object_legal_hold,
        Bucket=bucket,
        Key=key,
        VersionId=version_id,
        LegalHold={"Status": "ON" if on else "OFF"},
    )


def delete_version(s3: Any, bucket: str, key: str, version_id: str) -> None:
    """Delete one version; S3 refusing it (retention running, a legal hold) is a RefusedError."""
    from botocore.exceptions import ClientError

    try:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
    except ClientError as exc:
        if error_code(exc) in ("AccessDenied", "InvalidRequest", "ObjectLocked"):
            message = exc.response.get("Error", {}).get("Message", "")
            raise RefusedError(
                f"s3:DeleteObject {bucket}/{key}?versionId={version_id}: {error_code(exc)}: {message}"
            ) from None
        raise CloudError(f"s3:DeleteObject {bucket}/{key}: {error_code(exc)}") from None


def lock_configuration(s3: Any, bucket: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return dict(s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"])
    except ClientError as exc:
        if error_code(exc) in ("ObjectLockConfigurationNotFoundError", "NoSuchBucket"):
            return None
        raise CloudError(f"s3:GetObjectLockConfiguration {bucket}: {error_code(exc)}") from None


def ensure_bucket(s3: Any, bucket: str, region: str, *, mode: str, days: int) -> None:
    """Create a versioned Object Lock bucket with default retention (`mode`, `days`) unless it exists (the dev
    stack's bucket; an environment's comes from its evidence stack). One without Object Lock is an error."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise CloudError(f"s3:HeadBucket {bucket}: {error_code(exc)}") from None
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        call(f"s3:CreateBucket {bucket}", s3.create_bucket, Bucket=bucket, ObjectLockEnabledForBucket=True, **location)
        call(
            f"s3:PutObjectLockConfiguration {bucket}",
            s3.put_object_lock_configuration,
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}},
            },
        )
    if lock_configuration(s3, bucket) is None:
        raise CloudError(
            f"the evidence bucket {bucket} has no Object Lock: evidence there could be deleted",
            hint="Object Lock can only be enabled when a bucket is created: use a new bucket",
        )
