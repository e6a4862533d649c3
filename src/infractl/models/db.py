"""Tenants, their storage tiers and the migration targets they make (docs/tenants.md, docs/migrations.md)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Tier = Literal["A", "B", "C"]
TIERS: dict[str, str] = {
    "A": "pooled: shared tables, every row carries the tenant, row-level security per tenant role",
    "B": "schema per tenant in the shared database, its own role",
    "C": "database per tenant, its own role (optionally its own instance: the env model's tenants)",
}
# 2-32 characters, lower case, digits and inner hyphens: safe in a role, schema, database and bucket key once the
# hyphens become underscores. Anything else (quotes, semicolons, upper case, spaces) is refused before any SQL.
TENANT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
SHARED = "shared"  # the name of the shared target (the shared database's public schema: tier A and the runtime)

Phase = Literal["expand", "contract"]
TargetKind = Literal["shared", "schema", "database"]
TargetStatus = Literal["applied", "pending", "failed", "skipped"]


def tenant_ident(name: str) -> str:
    """The role, tier B schema and tier C database of a tenant: tenant_<name with - as _>."""
    return "tenant_" + name.replace("-", "_")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a tenant name, or None."""
    if TENANT_NAME.fullmatch(name):
        return None
    return (
        f"{name!r} is not a tenant name: 2-32 characters, lower-case letters, digits and inner hyphens,"
        " starting with a letter"
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TenantRecord(_Model):
    """One row of the tenant catalog (infractl.tenants in the shared database)."""

    name: str
    tier: Tier
    role: str
    schema_name: str | None = None  # tier B
    database: str  # the shared database for tiers A and B, the tenant's own for C
    instance: str | None = None  # tier C on a dedicated instance: the tenant whose instance it is
    state: Literal["creating", "ready", "deleting"]
    created_at: str | None = None
    last_backup: str | None = None  # the key of its newest backup's manifest


class Target(_Model):
    """Where the migration chain runs: the shared schema, a tier B schema or a tier C database."""

    name: str  # "shared" or the tenant's name
    kind: TargetKind
    tenant: str | None = None
    database: str
    schema_name: str | None = None  # None: public
    instance: str | None = None  # a dedicated instance (tier C), else the shared one

    @property
    def lock_key(self) -> str:
        return f"infractl.migrate:{self.database}:{self.schema_name or 'public'}"


class TargetResult(_Model):
    target: str
    kind: TargetKind
    tenant: str | None = None
    status: TargetStatus
    revision_before: str | None = None
    revision: str | None = None
    applied: list[str] = Field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
