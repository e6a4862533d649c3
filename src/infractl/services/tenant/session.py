"""What every tenant command works with: the env (its database endpoint and its env model), admin connections,
and the checks made before any SQL runs (the name, the tier, tier C's place in the env model)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infractl.adapters import pg
from infractl.errors import ConfigError, UsageError
from infractl.models.db import TIERS, TenantRecord, name_problem, tenant_ident
from infractl.services.db import catalog
from infractl.services.db.connect import DbEndpoint, VaultAccess

APPLICATION = "infractl-tenant"


@dataclass(frozen=True)
class TenantEnv:
    """One environment as the tenant commands see it."""

    name: str
    endpoint: DbEndpoint
    model: Any  # models.environment.Environment: its `tenants:` are the tier C tenants
    env_file: str  # the env model's file, as messages name it (environments/<env>.yaml)
    spool: Path  # where backups are staged on their way to and from S3


def open_env(ctx: Any, env_name: str) -> TenantEnv:
    """The env's endpoint (services/db/connect.resolve: the dev stack with --emulate) and its env model."""
    from infractl.services import environments
    from infractl.services.db.connect import resolve

    model = environments.load(ctx.project, env_name)
    endpoint = resolve(ctx, env_name, model)
    return TenantEnv(
        name=model.name,
        endpoint=endpoint,
        model=model,
        env_file=ctx.project.rel(ctx.project.env_file(model.name)),
        spool=ctx.project.work_dir / "tenant-backups",
    )


def default_spool() -> Path:
    return Path(tempfile.gettempdir()) / "infractl-tenant-backups"


@contextlib.contextmanager
def admin(tenv: TenantEnv, database: str | None = None, *, instance: str | None = None) -> Iterator[Any]:
    """An autocommit connection as the admin role, to the shared database (default) or `database`."""
    server = tenv.endpoint.server_for(instance)
    conn = pg.connect(server, database or tenv.endpoint.database, application_name=APPLICATION)
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def catalog_conn(tenv: TenantEnv) -> Iterator[Any]:
    """The admin connection to the shared database, with the catalog in place."""
    with admin(tenv) as conn:
        catalog.ensure(conn)
        yield conn


def check_name(name: str, *, what: str = "tenant name") -> None:
    """A UsageError before any SQL for anything that is not a safe tenant name (quotes, semicolons, upper case)."""
    problem = name_problem(name)
    if problem:
        raise UsageError(problem.replace("tenant name", what), hint="e.g. acme, acme-eu, tenant2")


def check_tier(tier: str | None) -> str:
    """'A', 'B' or 'C' (any case), else a UsageError listing the tiers."""
    value = (tier or "").strip().upper()
    if value not in TIERS:
        raise UsageError(
            f"unknown tier {tier!r}",
            details=[f"{t}: {what}" for t, what in TIERS.items()],
            hint="--tier A, --tier B or --tier C",
        )
    return value


def dedicated(tenv: TenantEnv) -> dict[str, bool]:
    """The env model's tier C tenants, each with whether it has a dedicated instance
    (tenants[].database.dedicated_instance)."""
    found = {}
    for t in getattr(tenv.model, "tenants", None) or []:
        database = getattr(t, "database", None)
        found[t.name] = bool(getattr(database, "dedicated_instance", False))
    return found


def plan_record(tenv: TenantEnv, name: str, tier: str) -> TenantRecord:
    """The catalog row a tenant `name` of `tier` gets (state `creating`). Tier C must be a tenant of the env model."""
    ident = tenant_ident(name)
    shared = tenv.endpoint.database
    if tier == "A":
        return TenantRecord(name=name, tier="A", role=ident, database=shared, state="creating")
    if tier == "B":
        return TenantRecord(name=name, tier="B", role=ident, schema_name=ident, database=shared, state="creating")
    listed = dedicated(tenv)
    if name not in listed:
        known = ", ".join(sorted(listed)) or "none"
        raise ConfigError(
            f"{tenv.env_file}: tenants: {name} is not a tier C tenant of {tenv.name} (listed: {known})",
            details=[
                "tier C tenants are the env model's `tenants:` — the same tenants get their namespace, node group"
                " and Vault role from it"
            ],
            hint=f"add `- name: {name}` (with its node_group) under tenants: in {tenv.env_file}, or use --tier A or B",
        )
    instance = name if listed[name] else None
    return TenantRecord(name=name, tier="C", role=ident, database=ident, instance=instance, state="creating")


def require_vault(tenv: TenantEnv) -> VaultAccess:
    if tenv.endpoint.vault is None:
        raise ConfigError(
            f"no Vault for {tenv.name}'s tenant credentials",
            hint="set VAULT_ADDR and VAULT_TOKEN (locally: --emulate uses the dev stack's OpenBao)",
        )
    return tenv.endpoint.vault


def require_tenant(conn: Any, tenv: TenantEnv, name: str) -> TenantRecord:
    record = catalog.get(conn, name)
    if record is None:
        raise UsageError(f"no tenant {name} in {tenv.name}", hint=f"see the tenants: infractl tenant list {tenv.name}")
    return record
