"""Results of the tenant commands (docs/tenants.md) and the backup manifest. No model here ever holds a secret:
credentials are named by where they live (a Vault path), never by value."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from infractl.models.db import TargetResult, TenantRecord, Tier

MANIFEST_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Credentials(_Model):
    """Where a tenant's database credentials live (never their value)."""

    store: Literal["kv", "database-engine"]
    path: str  # KV: <mount>/<prefix>/<name>; database engine: database/creds/tenant-<name>
    username: str | None = None  # the static login role (KV); None when the engine issues users
    note: str | None = None  # why the engine was not used, when it was wanted


class TableStat(_Model):
    """One table of a backup: its exact row count and, where it is cheap enough, a content checksum."""

    name: str
    rows: int
    columns: list[str] = Field(default_factory=list)  # tier A: the columns of its COPY, in order
    checksum: str | None = None  # tier A: md5 over the sorted row hashes, the tenant column left out


class BackupObject(_Model):
    key: str
    file: str  # its name in the dump folder (or <table>.copy for tier A)
    size: int
    sha256: str
    table: str | None = None  # tier A: the table it holds


class BackupManifest(_Model):
    version: int = MANIFEST_VERSION
    env: str
    tenant: str
    tier: Tier
    schema_name: str | None = None  # tier B: the schema the dump holds
    database: str  # tier C: the database the dump holds; A/B: the shared database
    head: str | None  # the target's migration revision when the backup was taken
    format: Literal["copy-text", "pg_dump-directory"]
    pg_dump_version: str | None = None
    checksum_method: str
    bucket: str
    prefix: str
    kms_key_id: str
    tables: list[TableStat] = Field(default_factory=list)
    objects: list[BackupObject] = Field(default_factory=list)
    created_at: str
    seconds: float = 0.0

    @property
    def manifest_key(self) -> str:
        return f"{self.prefix}/manifest.json"

    @property
    def size(self) -> int:
        return sum(o.size for o in self.objects)


class TenantCreated(_Model):
    env: str
    tenant: TenantRecord
    credentials: Credentials
    migration: TargetResult | None = None  # tiers B and C: the chain run to head in its schema/database
    steps: list[str] = Field(default_factory=list)
    seconds: float = 0.0


class TenantList(_Model):
    env: str
    tenants: list[TenantRecord] = Field(default_factory=list)


class TenantDetail(_Model):
    env: str
    tenant: TenantRecord
    revision: str | None = None
    rows: dict[str, int] = Field(default_factory=dict)
    credentials: Credentials | None = None
    events: list[dict[str, Any]] = Field(default_factory=list)


class TenantDeleted(_Model):
    env: str
    tenant: str
    tier: Tier
    forced: bool = False
    backup: str | None = None  # the manifest key of the backup that allowed it
    removed: list[str] = Field(default_factory=list)


class BackupResult(_Model):
    env: str
    tenant: str
    manifest_key: str
    manifest: BackupManifest
    timings: dict[str, float] = Field(default_factory=dict)


class TableCheck(_Model):
    name: str
    rows: int
    expected_rows: int
    checksum_ok: bool | None = None  # None: no content checksum for this tier


class RestoreResult(_Model):
    env: str
    tenant: TenantRecord
    source: str  # the tenant the backup was taken of
    manifest_key: str
    backup_head: str | None
    verified: list[TableCheck] = Field(default_factory=list)
    objects_verified: int = 0  # objects whose sha256 matched the manifest
    migration: TargetResult | None = None
    credentials: Credentials | None = None
    timings: dict[str, float] = Field(default_factory=dict)
