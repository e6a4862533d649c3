"""`infractl tenant restore ENV NAME [--from KEY | --latest] [--as NEW]`: a backup of NAME becomes tenant NEW
(default NAME, which must not exist: delete it first, or restore under another name).

Before anything is created: the manifest is read and checked — its migration head must be one this code knows
(a backup from a newer release is a ConflictError; tier A: nor ahead of the shared schema), tier C's NEW must be in
the env model, and nothing of NEW may exist. Then, on create's undo stack (all or nothing): the tenant as `create`
makes it, without migrations; its data; the checks; the migrations to head (a backup at an older head is brought
forward); `ready` and an event.

- tier A: the rows are COPYed into the shared tables with the tenant column rewritten to NEW and checked, in one
  transaction (pooled.py; a backup at an older head goes through a scratch schema migrated to the shared one's);
- tier B: pg_restore of the schema dump under the schema's backup name (created by the restore, owned by NEW's
  role), renamed to NEW's when the names differ. If the backup's schema still exists under that name (the source
  tenant is alive and the names differ), the dump is first restored into a scratch database, renamed there and
  dumped again, so the live tenant is never touched;
- tier C: pg_restore into NEW's database.
Dump files are streamed from S3 into named pipes pg_restore reads (the download runs alongside the restore) and
hashed on the way; each sha256 must match the manifest, and each table's row count too."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from infractl.errors import ConflictError, InfractlError, UsageError
from infractl.models.db import TenantRecord
from infractl.models.tenant import BackupManifest, RestoreResult, TableCheck
from infractl.services.db import catalog
from infractl.services.tenant import backup, checksums, create, dump, pooled, provision, rls, session, storage
from infractl.services.tenant.session import TenantEnv


def restore(
    tenv: TenantEnv, name: str, *, source_key: str | None = None, latest: bool = False, as_name: str | None = None
) -> RestoreResult:
    started = time.monotonic()
    session.check_name(name)
    target = as_name or name
    session.check_name(target, what="new tenant name")
    if source_key and latest:
        raise UsageError("--from and --latest contradict each other: give one")
    store = storage.open_store(tenv, create=tenv.endpoint.local)
    key = resolve_key(store, name, source_key)
    manifest = BackupManifest.model_validate(storage.get_json(store, key))
    if manifest.tenant != name:
        raise UsageError(f"{key} is a backup of tenant {manifest.tenant}, not of {name}")
    check_head(manifest, target)
    record = session.plan_record(tenv, target, manifest.tier)
    timings: dict[str, float] = {}
    with session.catalog_conn(tenv) as conn:
        create.check_free(tenv, conn, record)
        tables = rls.tenant_tables(conn) if record.tier == "A" else []
        shared = pooled.check_shared(tenv, conn, manifest, tables) if record.tier == "A" else None
        undo = provision.Undo()
        try:
            credentials, _ = create.provision_tenant(tenv, conn, record, undo, tables=tables, migrate=False)
            timings["provision"] = round(time.monotonic() - started, 3)
            if record.tier == "A":
                verified, objects = pooled.copy_in(tenv, store, manifest, record, shared)
            else:
                verified, objects = _dump(tenv, conn, store, manifest, record, undo, timings)
            timings["data"] = round(time.monotonic() - started - timings["provision"], 3)
            migration = create._migrate(tenv, record) if record.tier != "A" else None
            catalog.set_state(conn, target, "ready")
            catalog.record_event(
                conn,
                target,
                "restored",
                {
                    "from": f"s3://{store.bucket}/{key}",
                    "source": name,
                    "head": manifest.head,
                    "revision": migration.revision if migration else manifest.head,
                    "rows": sum(c.rows for c in verified),
                },
            )
        except BaseException as exc:
            raise create.undone(exc, undo, f"tenant {target} was not restored") from None
        stored = catalog.get(conn, target) or record
    timings["total"] = round(time.monotonic() - started, 3)
    return RestoreResult(
        env=tenv.name,
        tenant=stored,
        source=name,
        manifest_key=key,
        backup_head=manifest.head,
        verified=verified,
        objects_verified=objects,
        migration=migration,
        credentials=credentials,
        timings=timings,
    )


def resolve_key(store: storage.Store, name: str, source_key: str | None) -> str:
    """--from KEY (a manifest key, its folder, or an s3:// URL of either), else the newest backup of `name`."""
    if source_key:
        key = source_key.removeprefix(f"s3://{store.bucket}/").rstrip("/")
        return key if key.endswith("/manifest.json") else f"{key}/manifest.json"
    found = storage.manifests(store, name)
    if not found:
        raise UsageError(
            f"no backup of tenant {name} in s3://{store.bucket}/",
            hint=f"take one first: infractl tenant backup {store.env} {name}",
        )
    return found[-1]


def check_head(manifest: BackupManifest, target: str) -> None:
    """ConflictError when the backup's head is not in this code's chain (taken by a newer release)."""
    from infractl.adapters import migrations

    ids = [r.id for r in migrations.revisions()]
    if manifest.head is not None and manifest.head not in ids:
        raise ConflictError(
            f"the backup {manifest.manifest_key} is at migration {manifest.head}, newer than this code's head"
            f" {ids[-1] if ids else 'none'}: restoring it into {target} would give a schema this release cannot"
            " use",
            hint="restore it with the release that took it (or a newer one); nothing was created",
        )


# ---------------------------------------------------------------------------------------------- tiers B and C


def _dump(
    tenv: TenantEnv,
    conn: Any,
    store: storage.Store,
    manifest: BackupManifest,
    record: TenantRecord,
    undo: provision.Undo,
    timings: dict[str, float],
) -> tuple[list[TableCheck], int]:
    server = tenv.endpoint.server_for(record.instance)
    spool = tenv.spool / f"restore-{record.name}-{backup.stamp()}"
    spool.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    try:
        if record.tier == "C":
            objects = _restore_streamed(store, manifest, spool, server, record.database, role=record.role)
            schema = None
        else:
            objects = _tier_b(tenv, conn, store, manifest, record, undo, spool)
            schema = record.schema_name
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    timings["pg_restore"] = round(time.monotonic() - began, 3)
    names = [t.name for t in manifest.tables]
    found = checksums.counts_parallel(server, record.database, names, schema)
    timings["count"] = round(time.monotonic() - began - timings["pg_restore"], 3)
    checks = [TableCheck(name=t.name, rows=found.get(t.name, -1), expected_rows=t.rows) for t in manifest.tables]
    wrong = [f"{c.name}: {c.rows} rows, the backup has {c.expected_rows}" for c in checks if c.rows != c.expected_rows]
    if wrong:
        raise InfractlError(f"the restored tables of {record.name} do not match the backup", details=wrong)
    return checks, objects


def _restore_streamed(
    store: storage.Store,
    manifest: BackupManifest,
    spool: Path,
    server: Any,
    database: str,
    *,
    role: str | None,
    skip_schema: str | None = None,
) -> int:
    """pg_restore of the backup into `database`, its data files streamed from S3 through named pipes; the number of
    objects whose sha256 matched (all of them, or an error)."""
    folder = spool / "dump"
    folder.mkdir(parents=True)
    feed = storage.Feed(store)
    try:
        meta = [o for o in manifest.objects if not dump.is_data_file(o.file)]
        for obj in meta:
            feed.add(obj, folder / obj.file)
        feed.wait([o.file for o in meta])
        for obj in manifest.objects:
            if dump.is_data_file(obj.file):
                os.mkfifo(folder / obj.file, 0o600)
                feed.add(obj, folder / obj.file)
        use_list = dump.toc_without_schema(folder, skip_schema, spool / "toc.list") if skip_schema else None
        dump.run_restore(server, folder, database, role=role, use_list=use_list)
    finally:
        verified, problems = feed.close()
    if problems:
        raise InfractlError("the backup's files do not match its manifest", details=problems)
    return len(verified)


def _tier_b(
    tenv: TenantEnv,
    conn: Any,
    store: storage.Store,
    manifest: BackupManifest,
    record: TenantRecord,
    undo: provision.Undo,
    spool: Path,
) -> int:
    """The schema restored under its backup name, then renamed to the tenant's (see the module doc)."""
    server = tenv.endpoint.server
    old, new = manifest.schema_name or "", record.schema_name or record.role
    if old == new:
        return _restore_streamed(
            store, manifest, spool, server, tenv.endpoint.database, role=record.role, skip_schema=new
        )
    if not provision.schema_exists(conn, old):
        provision.rename_schema(conn, new, old)
        undo.did(f"schema {old} (the backup's name, before its rename)", lambda: _drop_if_ours(conn, old, record.role))
        verified = _restore_streamed(
            store, manifest, spool, server, tenv.endpoint.database, role=record.role, skip_schema=old
        )
        provision.rename_schema(conn, old, new)
        return verified
    # the source tenant's schema is alive under that name: rename in a scratch database, then dump and restore again
    scratch = f"infractl_restore_{secrets.token_hex(6)}"
    provision.create_database(conn, scratch, tenv.endpoint.server.user)
    try:
        verified = _restore_streamed(store, manifest, spool / "scratch", server, scratch, role=None)
        with session.admin(tenv, scratch) as sconn:
            provision.rename_schema(sconn, old, new)
        again = spool / "again"
        dump.run_dump(server, again, scratch, schema=new, snapshot=None)
    finally:
        with contextlib.suppress(Exception):
            provision.drop_database(conn, scratch)
    use_list = dump.toc_without_schema(again, new, spool / "toc.list")
    dump.run_restore(server, again, tenv.endpoint.database, role=record.role, use_list=use_list)
    return verified


def _drop_if_ours(conn: Any, schema: str, role: str) -> None:
    owner = conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    if owner and owner[0] == role:
        provision.drop_schema(conn, schema)
