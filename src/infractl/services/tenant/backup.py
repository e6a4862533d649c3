"""`infractl tenant backup ENV NAME`: one tenant's data to s3://bkp-<account>-<region>-<env>/<tenant>/<timestamp>/.

- tier A: its rows only — per tenant-owned table, `COPY (SELECT <columns> FROM <table> WHERE tenant = <name>) TO
  STDOUT` streamed to <table>.copy, with an exact count and a content checksum, all in one REPEATABLE READ snapshot;
- tier B: `pg_dump --format=directory --jobs=2 --schema=<schema>`; tier C: the same of its database. The dump runs
  in a snapshot this module exports (`--snapshot`), in which it counts every table's rows meanwhile; the files are
  uploaded while pg_dump still writes them (storage.FolderUpload) and hashed on the way.
manifest.json is written last (a backup without one is incomplete and never listed); the catalog keeps its key
(`last_backup`) and an event. A failed backup removes what it uploaded."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import threading
import time
from typing import Any

from infractl.adapters import pg
from infractl.errors import InfractlError, RefusedError
from infractl.models.db import TenantRecord
from infractl.models.tenant import BackupManifest, BackupResult, TableStat
from infractl.services.db import catalog
from infractl.services.tenant import checksums, dump, pooled, session, storage
from infractl.services.tenant.session import TenantEnv

APPLICATION = "infractl-tenant-backup"


def stamp(now: dt.datetime | None = None) -> str:
    """A key-safe UTC timestamp that sorts: 20261207T093012123456Z."""
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def backup(tenv: TenantEnv, name: str) -> BackupResult:
    session.check_name(name)
    started = time.monotonic()
    with session.catalog_conn(tenv) as conn:
        record = session.require_tenant(conn, tenv, name)
        if record.state != "ready":
            raise RefusedError(f"tenant {name} is {record.state}, not ready: nothing to back up")
        store = storage.open_store(tenv, create=True)
        now = dt.datetime.now(dt.UTC)
        prefix = f"{name}/{stamp(now)}"
        timings: dict[str, float] = {}
        try:
            if record.tier == "A":
                manifest = _tier_a(tenv, record, store, prefix, now, timings)
            else:
                manifest = _dump(tenv, record, store, prefix, now, timings)
            manifest.seconds = round(time.monotonic() - started, 3)
            storage.put_json(store, manifest.manifest_key, manifest.model_dump(mode="json"))
        except BaseException:
            _remove_prefix(store, prefix)
            raise
        catalog.set_last_backup(conn, name, manifest.manifest_key)
        catalog.record_event(
            conn,
            name,
            "backed-up",
            {
                "key": f"s3://{store.bucket}/{manifest.manifest_key}",
                "bytes": manifest.size,
                "tables": len(manifest.tables),
                "rows": sum(t.rows for t in manifest.tables),
                "head": manifest.head,
            },
        )
    timings["total"] = round(time.monotonic() - started, 3)
    return BackupResult(
        env=tenv.name, tenant=name, manifest_key=manifest.manifest_key, manifest=manifest, timings=timings
    )


def _base(tenv: TenantEnv, record: TenantRecord, store: storage.Store, prefix: str, now: dt.datetime) -> dict:
    return {
        "env": tenv.name,
        "tenant": record.name,
        "tier": record.tier,
        "schema_name": record.schema_name,
        "database": record.database,
        "bucket": store.bucket,
        "prefix": prefix,
        "kms_key_id": store.key_id,
        "created_at": now.isoformat(),
    }


def _tier_a(
    tenv: TenantEnv, record: TenantRecord, store: storage.Store, prefix: str, now: dt.datetime, timings: dict
) -> BackupManifest:
    began = time.monotonic()
    head, stats, objects = pooled.copy_out(tenv, record, store, prefix)
    timings["copy"] = round(time.monotonic() - began, 3)
    return BackupManifest(
        **_base(tenv, record, store, prefix, now),
        head=head,
        format="copy-text",
        checksum_method=checksums.A_METHOD,
        tables=stats,
        objects=objects,
    )


def _dump(
    tenv: TenantEnv, record: TenantRecord, store: storage.Store, prefix: str, now: dt.datetime, timings: dict
) -> BackupManifest:
    server = tenv.endpoint.server_for(record.instance)
    schema = record.schema_name if record.tier == "B" else None
    spool = tenv.spool / f"{record.name}-{stamp(now)}"
    spool.parent.mkdir(parents=True, exist_ok=True)
    folder = spool / "dump"
    version = dump.version()
    snap = pg.connect(server, record.database, application_name=APPLICATION)  # BEGIN/ROLLBACK explicit
    counted: dict[str, Any] = {}
    uploads = storage.FolderUpload(store, folder, prefix)
    began = time.monotonic()
    try:
        spool.mkdir(parents=True, exist_ok=True)
        snap.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = snap.execute("SELECT pg_export_snapshot()").fetchone()[0]
        head = checksums.revision(snap, schema or "public")
        names = checksums.tables(snap, schema)

        def count_all() -> None:  # in the dump's snapshot, while pg_dump runs
            try:
                counted["rows"] = checksums.counts(snap, names, schema)
            except BaseException as exc:
                counted["error"] = exc

        counter = threading.Thread(target=count_all, name="tenant-backup-count", daemon=True)
        counter.start()
        uploads.start()
        dump.run_dump(server, folder, record.database, schema=schema, snapshot=snapshot)
        timings["pg_dump"] = round(time.monotonic() - began, 3)
        objects = uploads.finish()
        timings["upload_tail"] = round(time.monotonic() - began - timings["pg_dump"], 3)
        counter.join()
        if "error" in counted:
            raise InfractlError(f"counting the rows of tenant {record.name}: {counted['error']}")
    except BaseException:
        uploads.abort()
        raise
    finally:
        with contextlib.suppress(Exception):
            snap.execute("ROLLBACK")
        snap.close()
        shutil.rmtree(spool, ignore_errors=True)
    stats = [TableStat(name=n, rows=r) for n, r in sorted(counted["rows"].items())]
    return BackupManifest(
        **_base(tenv, record, store, prefix, now),
        head=head,
        format="pg_dump-directory",
        pg_dump_version=version,
        checksum_method=checksums.DUMP_METHOD,
        tables=stats,
        objects=objects,
    )


def _remove_prefix(store: storage.Store, prefix: str) -> None:
    """Best effort: the objects a failed backup uploaded (without a manifest they are never listed anyway)."""
    with contextlib.suppress(Exception):
        listed = store.s3.list_objects_v2(Bucket=store.bucket, Prefix=prefix + "/").get("Contents", [])
        if listed:
            store.s3.delete_objects(Bucket=store.bucket, Delete={"Objects": [{"Key": o["Key"]} for o in listed]})
