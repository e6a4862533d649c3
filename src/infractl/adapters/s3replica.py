"""The evidence bucket and its DR replica as the replication check reads them (services/drill/replication.py).

Every function takes a boto3 S3 client (the replica's is the DR region's). Bodies are hashed as they stream (1 MiB
chunks): a stored checksum is metadata a copy carries along, the body is what has to be equal. SDK errors become
CloudError naming the call (adapters.aws.call)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infractl.adapters.aws import call, error_code
from infractl.errors import CloudError

__all__ = ["BucketSetup", "Listed", "ObjectCopy", "current_objects", "read", "setup", "status_of"]

CHUNK = 1024 * 1024
MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchBucket")


@dataclass(frozen=True)
class BucketSetup:
    """What the replication check needs to know of one bucket."""

    bucket: str
    exists: bool
    versioning: str = ""  # Enabled | Suspended | "" (never enabled)
    object_lock: bool = False
    default_retention: dict[str, Any] | None = None  # {"Mode": …, "Days" | "Years": …}
    encryption: str = ""  # the default SSE algorithm (aws:kms, AES256) or ""
    replication: dict[str, Any] | None = None  # {"Role": …, "Rules": […]} or None
    rules: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Listed:
    key: str
    size: int


@dataclass(frozen=True)
class ObjectCopy:
    """One object's current version as read from a bucket (exists False: no such key, or a delete marker)."""

    key: str
    exists: bool
    version_id: str = ""
    sha256: str = ""
    size: int = 0
    mode: str = ""  # COMPLIANCE | GOVERNANCE | ""
    retain_until: datetime | None = None
    legal_hold: str = "OFF"  # ON | OFF
    replication_status: str = ""  # COMPLETED | PENDING | FAILED | REPLICA | ""


def _optional(what: str, fn: Any, absent: tuple[str, ...], **kwargs: Any) -> dict[str, Any] | None:
    """One read whose "not configured" answer (an error code in `absent`) is None."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return dict(fn(**kwargs))
    except BotoCoreError as exc:
        raise CloudError(f"{what}: {exc}") from None
    except ClientError as exc:
        if error_code(exc) in absent:
            return None
        message = exc.response.get("Error", {}).get("Message", "")
        raise CloudError(f"{what}: {error_code(exc)}: {message}") from None


def setup(s3: Any, bucket: str) -> BucketSetup:
    """Versioning, Object Lock, default encryption and replication of `bucket` (exists False when there is none)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in MISSING:
            return BucketSetup(bucket, exists=False)
        raise CloudError(f"s3:HeadBucket {bucket}: {error_code(exc)}") from None
    except BotoCoreError as exc:
        raise CloudError(f"s3:HeadBucket {bucket}: {exc}") from None
    versioning = call(f"s3:GetBucketVersioning {bucket}", s3.get_bucket_versioning, Bucket=bucket)
    lock = _optional(
        f"s3:GetObjectLockConfiguration {bucket}",
        s3.get_object_lock_configuration,
        ("ObjectLockConfigurationNotFoundError",),
        Bucket=bucket,
    )
    lock_config = (lock or {}).get("ObjectLockConfiguration") or {}
    encryption = _optional(
        f"s3:GetBucketEncryption {bucket}",
        s3.get_bucket_encryption,
        ("ServerSideEncryptionConfigurationNotFoundError",),
        Bucket=bucket,
    )
    sse_rules = ((encryption or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or [{}]
    algorithm = (sse_rules[0].get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", "")
    replication = _optional(
        f"s3:GetBucketReplication {bucket}",
        s3.get_bucket_replication,
        ("ReplicationConfigurationNotFoundError",),
        Bucket=bucket,
    )
    config = (replication or {}).get("ReplicationConfiguration")
    return BucketSetup(
        bucket,
        exists=True,
        versioning=str(versioning.get("Status") or ""),
        object_lock=lock_config.get("ObjectLockEnabled") == "Enabled",
        default_retention=(lock_config.get("Rule") or {}).get("DefaultRetention"),
        encryption=str(algorithm),
        replication=config,
        rules=list((config or {}).get("Rules") or []),
    )


def current_objects(s3: Any, bucket: str, prefix: str = "") -> Iterator[Listed]:
    """The current version of every key under `prefix` (ListObjectsV2: keys whose latest version is a delete marker
    are not listed, older versions never are)."""
    from botocore.exceptions import BotoCoreError, ClientError

    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    try:
        for page in pages:
            for item in page.get("Contents", []):
                yield Listed(str(item["Key"]), int(item.get("Size", 0)))
    except (BotoCoreError, ClientError) as exc:  # errors surface while paginating
        raise CloudError(f"s3:ListObjectsV2 {bucket}/{prefix}: {error_code(exc) or exc}") from None


def read(s3: Any, bucket: str, key: str) -> ObjectCopy:
    """The current version of `key`: its body's SHA-256 (streamed) and its lock, legal hold and replication status."""
    from botocore.exceptions import BotoCoreError, ClientError

    digest, size = hashlib.sha256(), 0
    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
        body = answer["Body"]
        try:
            for chunk in body.iter_chunks(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        finally:
            body.close()
    except ClientError as exc:
        if error_code(exc) in MISSING:
            return ObjectCopy(key, exists=False)
        raise CloudError(f"s3:GetObject {bucket}/{key}: {error_code(exc)}") from None
    except BotoCoreError as exc:  # the connection, or the body cut short
        raise CloudError(f"s3:GetObject {bucket}/{key}: {exc}") from None
    return ObjectCopy(
        key,
        exists=True,
        version_id=str(answer.get("VersionId") or ""),
        sha256=digest.hexdigest(),
        size=size,
        mode=str(answer.get("ObjectLockMode") or ""),
        retain_until=answer.get("ObjectLockRetainUntilDate"),
        legal_hold=str(answer.get("ObjectLockLegalHoldStatus") or "OFF"),
        replication_status=str(answer.get("ReplicationStatus") or ""),
    )


def status_of(s3: Any, bucket: str, key: str, version_id: str | None = None) -> str | None:
    """A version's ReplicationStatus ("" when it has none), or None when it is not there (HEAD only)."""
    from botocore.exceptions import BotoCoreError, ClientError

    extra = {"VersionId": version_id} if version_id else {}
    try:
        answer = s3.head_object(Bucket=bucket, Key=key, **extra)
    except ClientError as exc:
        if error_code(exc) in (*MISSING, "405"):
            return None
        raise CloudError(f"s3:HeadObject {bucket}/{key}: {error_code(exc)}") from None
    except BotoCoreError as exc:
        raise CloudError(f"s3:HeadObject {bucket}/{key}: {exc}") from None
    return str(answer.get("ReplicationStatus") or "")
