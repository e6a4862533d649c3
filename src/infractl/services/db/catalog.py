"""The tenant catalog: the schema `infractl` in the shared database, owned by infractl (not by the runtime's
migration chain). It lists every tenant with its tier and where its data lives, the state of each migration target
(so a fan-out can be resumed and `db status` can show the last error) and what tenant operations did.

Every function takes an open psycopg connection in autocommit mode on the shared database (as the admin role)."""

from __future__ import annotations

import json
from typing import Any

from infractl.models.db import SHARED, Target, TargetResult, TenantRecord

SCHEMA = "infractl"

DDL = """
CREATE SCHEMA IF NOT EXISTS infractl;
CREATE TABLE IF NOT EXISTS infractl.tenants (
    name          text PRIMARY KEY,
    tier          text NOT NULL CHECK (tier IN ('A', 'B', 'C')),
    role_name     text NOT NULL UNIQUE,
    schema_name   text,
    database_name text NOT NULL,
    instance      text,
    state         text NOT NULL CHECK (state IN ('creating', 'ready', 'deleting')),
    last_backup   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS infractl.migration_targets (
    target      text PRIMARY KEY,
    kind        text NOT NULL,
    tenant      text,
    status      text NOT NULL,
    revision    text,
    error       text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS infractl.tenant_events (
    id      bigserial PRIMARY KEY,
    tenant  text NOT NULL,
    action  text NOT NULL,
    detail  jsonb NOT NULL DEFAULT '{}'::jsonb,
    at      timestamptz NOT NULL DEFAULT now()
);
"""

_COLUMNS = "name, tier, role_name, schema_name, database_name, instance, state, last_backup, created_at"


def ensure(conn) -> None:
    """Create the catalog when missing (idempotent; concurrent callers serialise on an advisory lock)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('infractl.catalog'))")
        conn.execute(DDL)


def _record(row: tuple[Any, ...]) -> TenantRecord:
    name, tier, role, schema, database, instance, state, last_backup, created = row
    return TenantRecord(
        name=name,
        tier=tier,
        role=role,
        schema_name=schema,
        database=database,
        instance=instance,
        state=state,
        last_backup=last_backup,
        created_at=created.isoformat() if created else None,
    )


def get(conn, name: str) -> TenantRecord | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM infractl.tenants WHERE name = %s", (name,)).fetchone()
    return _record(row) if row else None


def tenants(conn, *, tier: str | None = None) -> list[TenantRecord]:
    if tier:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM infractl.tenants WHERE tier = %s ORDER BY name", (tier,))
    else:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM infractl.tenants ORDER BY name")
    return [_record(r) for r in rows.fetchall()]


def insert(conn, record: TenantRecord) -> bool:
    """Add a tenant in state `creating`; False when the name (or its role) is already taken."""
    cur = conn.execute(
        "INSERT INTO infractl.tenants (name, tier, role_name, schema_name, database_name, instance, state)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (record.name, record.tier, record.role, record.schema_name, record.database, record.instance, record.state),
    )
    return cur.rowcount == 1


def set_state(conn, name: str, state: str) -> None:
    conn.execute("UPDATE infractl.tenants SET state = %s, updated_at = now() WHERE name = %s", (state, name))


def set_last_backup(conn, name: str, key: str) -> None:
    conn.execute("UPDATE infractl.tenants SET last_backup = %s, updated_at = now() WHERE name = %s", (key, name))


def remove(conn, name: str) -> None:
    conn.execute("DELETE FROM infractl.tenants WHERE name = %s", (name,))
    conn.execute("DELETE FROM infractl.migration_targets WHERE tenant = %s", (name,))


def record_event(conn, tenant: str, action: str, detail: dict[str, Any] | None = None) -> None:
    """What a tenant operation did (created, deleted, backed up, restored), kept after the tenant is gone."""
    conn.execute(
        "INSERT INTO infractl.tenant_events (tenant, action, detail) VALUES (%s, %s, %s::jsonb)",
        (tenant, action, json.dumps(detail or {}, sort_keys=True, default=str)),
    )


def events(conn, tenant: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT action, detail, at FROM infractl.tenant_events WHERE tenant = %s ORDER BY id", (tenant,)
    ).fetchall()
    return [{"action": a, "detail": d, "at": at.isoformat()} for a, d, at in rows]


def target_of(record: TenantRecord) -> Target | None:
    """The migration target a tenant adds (tier A adds none: its rows live in the shared schema)."""
    if record.tier == "B":
        return Target(
            name=record.name,
            kind="schema",
            tenant=record.name,
            database=record.database,
            schema_name=record.schema_name,
        )
    if record.tier == "C":
        return Target(
            name=record.name, kind="database", tenant=record.name, database=record.database, instance=record.instance
        )
    return None


def targets(conn, shared_database: str, *, tenant: str | None = None) -> list[Target]:
    """The shared target first, then every ready tier B schema and tier C database (only `tenant`'s when given; a
    tier A tenant maps to the shared target)."""
    shared = Target(name=SHARED, kind="shared", database=shared_database)
    records = [r for r in tenants(conn) if r.state != "deleting"]
    if tenant is not None:
        records = [r for r in records if r.name == tenant]
        if records and records[0].tier == "A":
            return [shared]
        return [t for r in records if (t := target_of(r))]
    return [shared, *[t for r in records if (t := target_of(r))]]


def save_result(conn, result: TargetResult) -> None:
    conn.execute(
        "INSERT INTO infractl.migration_targets (target, kind, tenant, status, revision, error, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, now()) ON CONFLICT (target) DO UPDATE SET kind = excluded.kind,"
        " tenant = excluded.tenant, status = excluded.status, revision = excluded.revision, error = excluded.error,"
        " updated_at = now()",
        (result.target, result.kind, result.tenant, result.status, result.revision, result.error),
    )


def saved_results(conn) -> dict[str, dict[str, Any]]:
    rows = conn.execute("SELECT target, status, revision, error, updated_at FROM infractl.migration_targets").fetchall()
    return {t: {"status": s, "revision": r, "error": e, "updated_at": u.isoformat()} for t, s, r, e, u in rows}
