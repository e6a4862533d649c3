"""ObjectStore adapter: the S3 API through boto3 (AWS, MinIO, moto).

CONTROLPLANE_S3_ENDPOINT_URL empty = AWS with virtual-hosted addressing; set = that endpoint, path-style.
Credentials: CONTROLPLANE_S3_CREDENTIALS=vault reads `access_key_id` / `secret_access_key` from KV v2
(secret/controlplane/object-store); `ambient` leaves them to boto3's default chain (IRSA / workload identity).
The client is built on first use, so a process starts before the secrets backend answers.
Every PUT carries its SHA-256 (ChecksumAlgorithm=SHA256): S3 refuses a body that does not match it, and HEAD answers
it (`ChecksumMode=ENABLED`), so a payload's hash is checked without reading it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from controlplane.errors import DependencyError
from controlplane.models import ObjectLock, StoredObject
from controlplane.settings import S3Credentials, Settings

CredentialSource = Callable[[], Awaitable[tuple[str, str] | None]]


def make_client(settings: Settings, credentials: tuple[str, str] | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=settings.s3_region,
        connect_timeout=3,
        read_timeout=10,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"} if settings.s3_endpoint_url else {},
    )
    session = boto3.session.Session(
        aws_access_key_id=credentials[0] if credentials else None,
        aws_secret_access_key=credentials[1] if credentials else None,
        region_name=settings.s3_region,
    )
    return session.client("s3", endpoint_url=settings.s3_endpoint_url, config=config)


class S3ObjectStore:
    def __init__(self, settings: Settings, credentials: CredentialSource) -> None:
        self.settings = settings
        self.bucket = settings.evidence_bucket
        self._credentials = credentials
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def client(self) -> Any:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    creds = await self._credentials()
                    self._client = await asyncio.to_thread(make_client, self.settings, creds)
        return self._client

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
        lock: ObjectLock | None = None,
    ) -> StoredObject:
        client = await self.client()
        return await asyncio.to_thread(
            self.put_sync, client, key, data, content_type=content_type, metadata=metadata, lock=lock
        )

    def put_sync(
        self,
        client: Any,
        key: str,
        data: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
        lock: ObjectLock | None = None,
    ) -> StoredObject:
        """PUT with a SHA-256 checksum S3 checks on arrival (and answers on HEAD); `lock`: that version's retention.
        In a thread: `client` is `await self.client()`."""
        digest = hashlib.sha256(data)
        extra: dict[str, Any] = {}
        if lock is not None:
            extra = {"ObjectLockMode": lock.mode, "ObjectLockRetainUntilDate": lock.retain_until}
        try:
            response = client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
                Metadata={"sha256": digest.hexdigest(), **dict(metadata or {})},
                **extra,
            )
        except Exception as exc:
            raise DependencyError(f"object store: put s3://{self.bucket}/{key} failed: {_describe(exc)}") from None
        version = str(response.get("VersionId") or "")
        if lock is not None and version in ("", "null"):
            raise DependencyError(
                f"object store: put s3://{self.bucket}/{key}: no version id: the bucket has no versioning/Object Lock"
            )
        return StoredObject(
            bucket=self.bucket,
            key=key,
            sha256=digest.hexdigest(),
            size=len(data),
            extra={"etag": str(response.get("ETag", "")).strip('"')},
            version_id=version,
        )

    def keys_sync(self, client: Any, prefix: str) -> list[str]:
        """Every key under `prefix` (current versions). In a thread."""
        found: list[str] = []
        try:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(o["Key"] for o in page.get("Contents", []))
        except Exception as exc:
            raise DependencyError(f"object store: list s3://{self.bucket}/{prefix} failed: {_describe(exc)}") from None
        return found

    async def get(self, key: str) -> bytes:
        client = await self.client()
        try:
            response = await asyncio.to_thread(client.get_object, Bucket=self.bucket, Key=key)
            return await asyncio.to_thread(response["Body"].read)
        except Exception as exc:
            raise DependencyError(f"object store: get s3://{self.bucket}/{key} failed: {_describe(exc)}") from None

    async def ping(self) -> None:
        client = await self.client()
        try:
            await asyncio.to_thread(client.head_bucket, Bucket=self.bucket)
        except Exception as exc:
            raise DependencyError(f"object store: bucket {self.bucket}: {_describe(exc)}") from None


def _describe(exc: Exception) -> str:
    """The S3 error code (or the exception class): never the request, its headers or its signature."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        code = error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code:
            return str(code)
    return type(exc).__name__


def credential_source(settings: Settings, read: Callable[[str], Awaitable[dict[str, str]]]) -> CredentialSource:
    async def source() -> tuple[str, str] | None:
        if settings.s3_credentials is S3Credentials.AMBIENT:
            return None
        data = await read(settings.s3_secret_path)
        missing = [k for k in ("access_key_id", "secret_access_key") if not data.get(k)]
        if missing:
            raise DependencyError(
                f"secret {settings.vault_kv_mount}/{settings.s3_secret_path} lacks {', '.join(missing)}"
            )
        return data["access_key_id"], data["secret_access_key"]

    return source
