"""ObjectStore adapter: the S3 API through boto3 (AWS, MinIO, moto).

CONTROLPLANE_S3_ENDPOINT_URL empty = AWS with virtual-hosted addressing; set = that endpoint, path-style.
Credentials: CONTROLPLANE_S3_CREDENTIALS=vault reads `access_key_id` / `secret_access_key` from KV v2
(secret/controlplane/object-store); `ambient` leaves them to boto3's default chain (IRSA / workload identity).
The client is built on first use, so a process starts before the secrets backend answers.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from controlplane.errors import DependencyError
from controlplane.models import StoredObject
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
        self, key: str, data: bytes, *, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> StoredObject:
        client = await self.client()
        digest = hashlib.sha256(data).hexdigest()
        try:
            response = await asyncio.to_thread(
                client.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                Metadata={"sha256": digest, **dict(metadata or {})},
            )
        except Exception as exc:
            raise DependencyError(f"object store: put s3://{self.bucket}/{key} failed: {_describe(exc)}") from None
        return StoredObject(
            bucket=self.bucket,
            key=key,
            sha256=digest,
            size=len(data),
            extra={"etag": str(response.get("ETag", "")).strip('"')},
        )

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
