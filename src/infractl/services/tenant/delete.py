"""`infractl tenant delete ENV NAME [--force] [--yes] [--max-backup-age HOURS]`.

A ready tenant is deleted only with a fresh backup (unless --force): its last backup (the catalog's last_backup)
must still be in S3, be at most --max-backup-age hours old (default 24) and be at the migration revision the
tenant is at now (a migration since then would make the backup restore to another shape than the data had).
Rows written after that backup are not detected: take a backup right before deleting (docs/tenants.md).

Then, after the confirmation: the catalog row goes to `deleting`; tier A: its rows and its policies, tier B: its
schema, tier C: the database secrets engine's role and connection (revoking its users), its database and the
engine's login; then its role (and what was granted to it) and its Vault KV document; the catalog row goes, and an
event records what was removed (events outlive the tenant). Every step is idempotent: an interrupted delete is
finished by running it again (a tenant left `creating` by an interrupted create is removed the same way)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from infractl.errors import RefusedError, UsageError
from infractl.models.db import TenantRecord
from infractl.models.tenant import BackupManifest, TenantDeleted
from infractl.services.db import catalog
from infractl.services.tenant import checksums, create, provision, rls, session, storage, vault
from infractl.services.tenant.session import TenantEnv

MAX_BACKUP_AGE_HOURS = 24.0


def delete(
    tenv: TenantEnv,
    name: str,
    *,
    confirm: Callable[[str], bool],
    force: bool = False,
    max_backup_age_hours: float = MAX_BACKUP_AGE_HOURS,
    now: dt.datetime | None = None,
) -> TenantDeleted:
    session.check_name(name)
    with session.catalog_conn(tenv) as conn:
        record = session.require_tenant(conn, tenv, name)
        backup_key = None
        if record.state == "ready" and not force:
            backup_key = fresh_backup(tenv, conn, record, max_backup_age_hours, now or dt.datetime.now(dt.UTC))
        what = {
            "A": "its rows in the shared tables",
            "B": f"its schema {record.schema_name}",
            "C": f"its database {record.database}",
        }
        question = (
            f"delete tenant {name} of {tenv.name} (tier {record.tier}): {what[record.tier]}, its role {record.role}"
            f" and its credentials?{'' if backup_key else ' There is no fresh backup (--force).'}"
        )
        if not confirm(question):
            raise UsageError(f"tenant {name} not deleted: confirmation declined")
        catalog.set_state(conn, name, "deleting")
        removed = teardown(tenv, conn, record)
        catalog.remove(conn, name)
        catalog.record_event(
            conn,
            name,
            "deleted",
            {"tier": record.tier, "forced": force, "backup": backup_key, "removed": removed, "state": record.state},
        )
    return TenantDeleted(env=tenv.name, tenant=name, tier=record.tier, forced=force, backup=backup_key, removed=removed)


def fresh_backup(tenv: TenantEnv, conn: Any, record: TenantRecord, max_age_hours: float, now: dt.datetime) -> str:
    """The key of the backup that allows deleting `record`, or a RefusedError saying why there is none."""
    hint = f"take one: infractl tenant backup {tenv.name} {record.name} (or delete without one: --force)"
    key = record.last_backup
    if not key:
        raise RefusedError(f"tenant {record.name} has no backup: deleting it would lose its data", hint=hint)
    store = storage.open_store(tenv)
    try:
        manifest = BackupManifest.model_validate(storage.get_json(store, key))
    except Exception:
        raise RefusedError(
            f"the last backup of {record.name} (s3://{store.bucket}/{key}) cannot be read", hint=hint
        ) from None
    age = now - dt.datetime.fromisoformat(manifest.created_at)
    if age > dt.timedelta(hours=max_age_hours):
        raise RefusedError(
            f"the last backup of {record.name} is {age.total_seconds() / 3600:.1f} h old"
            f" (--max-backup-age {max_age_hours:g} h)",
            hint=hint,
        )
    current = current_revision(tenv, conn, record)
    if current != manifest.head:
        raise RefusedError(
            f"tenant {record.name} was migrated since its last backup (backup at {manifest.head}, now {current})",
            hint=hint,
        )
    return key


def current_revision(tenv: TenantEnv, conn: Any, record: TenantRecord) -> str | None:
    if record.tier == "A":
        return checksums.revision(conn, rls.SHARED_SCHEMA)
    if record.tier == "B":
        return checksums.revision(conn, record.schema_name or record.role)
    with session.admin(tenv, record.database, instance=record.instance) as tconn:
        return checksums.revision(tconn, "public")


def teardown(tenv: TenantEnv, conn: Any, record: TenantRecord) -> list[str]:
    """Remove everything of the tenant but its catalog row; what was removed (what was already gone is left out)."""
    removed: list[str] = []
    owner, role = tenv.endpoint.owner_role, record.role
    access = session.require_vault(tenv)
    if record.tier == "A":
        tables = rls.tenant_tables(conn)
        rows = rls.delete_rows(conn, record.name, owner, tables)
        removed.append(f"rows: {sum(rows.values())} ({', '.join(f'{t} {n}' for t, n in rows.items() if n) or 'none'})")
        dropped = rls.drop_policies(conn, role, owner)
        if dropped:
            removed.append(f"policies {rls.policy_name(role)} on {', '.join(dropped)}")
        if provision.role_exists(conn, role):
            rls.revoke(conn, role, owner, tables)
            removed.append(f"grants to {role} on {len(tables)} shared tables")
    elif record.tier == "B":
        if provision.drop_schema(conn, record.schema_name or role):
            removed.append(f"schema {record.schema_name}")
    else:
        if vault.engine_configured(access, record.name):
            removed += vault.remove_engine(access, record.name)
        with session.admin(tenv, "postgres", instance=record.instance) as sconn:
            if provision.drop_database(sconn, record.database):
                removed.append(f"database {record.database}")
            manager = create.manager_role(record)
            if provision.drop_role(sconn, manager):
                removed.append(f"role {manager}")
            if record.instance is not None and provision.drop_role(sconn, role):
                removed.append(f"role {role}")
    if provision.drop_role(conn, role):
        removed.append(f"role {role}")
    path = create.kv_path(tenv, record.name)
    if vault.delete_kv(access, path):
        removed.append(f"vault: {access.kv_mount}/{path}")
    return removed
