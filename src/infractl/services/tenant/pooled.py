"""Tier A rows in and out of the shared tables: the backup's COPY out, the restore's COPY in (tenant column
rewritten, checked, one transaction), and a backup taken at an older migration head brought forward first.

A tier A tenant has no schema of its own to migrate: its rows join tables that are at the shared schema's
revision. A backup at an older revision is therefore loaded into a scratch schema built at the backup's revision
(the same migration chain), checked there, migrated there to the shared schema's revision (so the migrations
transform the rows as they transformed everyone else's), and only then copied into the shared tables."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from typing import Any

from infractl.adapters import pg
from infractl.adapters.pg import ident
from infractl.errors import ConflictError, InfractlError
from infractl.models.db import TenantRecord
from infractl.models.tenant import BackupManifest, BackupObject, TableCheck, TableStat
from infractl.services.tenant import checksums, rls, storage

APPLICATION = "infractl-tenant-rows"


# ---------------------------------------------------------------------------------------------- backup


def copy_out(
    tenv: Any, record: TenantRecord, store: storage.Store, prefix: str
) -> tuple[str | None, list[TableStat], list[BackupObject]]:
    """The tenant's rows of every tenant-owned table to <prefix>/<table>.copy, with counts and checksums, in one
    REPEATABLE READ snapshot; (the shared schema's revision, tables, objects)."""
    from psycopg import sql

    conn = pg.connect(tenv.endpoint.server, tenv.endpoint.database, application_name=APPLICATION)
    objects: list[BackupObject] = []
    stats: list[TableStat] = []
    with conn:  # autocommit: the snapshot is this explicit transaction
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        head = checksums.revision(conn, rls.SHARED_SCHEMA)
        for table in rls.tenant_tables(conn):
            cols = rls.columns(conn, table)
            query = sql.SQL("COPY (SELECT {} FROM {}.{} WHERE {} = {}) TO STDOUT").format(
                sql.SQL(", ").join(ident(c) for c in cols),
                ident(rls.SHARED_SCHEMA),
                ident(table),
                ident(rls.TENANT_COLUMN),
                sql.Literal(record.name),
            )
            writer = storage.Writer(store, f"{prefix}/{table}.copy", file=f"{table}.copy", table=table)
            try:
                with conn.cursor().copy(query) as copy:
                    for data in copy:
                        writer.write(data)
                objects.append(writer.close())
            except BaseException:
                writer.abort()
                raise
            rows, checksum = checksums.tenant_rows(conn, table, cols, rls.TENANT_COLUMN, record.name, rls.SHARED_SCHEMA)
            stats.append(TableStat(name=table, rows=rows, columns=cols, checksum=checksum))
        conn.execute("ROLLBACK")
    return head, stats, objects


# ---------------------------------------------------------------------------------------------- restore


def check_shared(tenv: Any, conn: Any, manifest: BackupManifest, tables: list[str]) -> str | None:
    """The shared schema's revision, when the backup can join it: at that revision (its tables all there) or at an
    older one of the chain. A backup ahead of the shared schema is a ConflictError."""
    from infractl.adapters import migrations

    current = checksums.revision(conn, rls.SHARED_SCHEMA)
    ids = [r.id for r in migrations.revisions()]
    ahead = manifest.head in ids and (current is None or ids.index(manifest.head) > ids.index(current))
    if manifest.head != current and ahead:
        raise ConflictError(
            f"the backup is at migration {manifest.head}, ahead of the shared schema of {tenv.name} ({current})",
            hint=f"migrate the shared schema first: infractl db migrate {tenv.name}",
        )
    missing = [t.name for t in manifest.tables if t.name not in tables]
    if manifest.head == current and missing:
        raise ConflictError(f"the shared schema of {tenv.name} has no tenant-owned table {', '.join(missing)}")
    return current


def copy_in(
    tenv: Any, store: storage.Store, manifest: BackupManifest, record: TenantRecord, shared: str | None
) -> tuple[list[TableCheck], int]:
    """The backup's rows into the shared tables as tenant `record.name`: directly when the backup is at the shared
    schema's revision, else through a scratch schema (module doc). Nothing is kept on any mismatch."""
    if manifest.head == shared:
        return _direct(tenv, store, manifest, record)
    return _through_scratch(tenv, store, manifest, record, shared)


def _load(conn: Any, store: storage.Store, obj: BackupObject, into: Any, cols: list[str]) -> str | None:
    """COPY one object into `into` (a composed identifier); a problem line when its sha256 differs."""
    from psycopg import sql

    sha = hashlib.sha256()
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(into, sql.SQL(", ").join(ident(c) for c in cols))
    with conn.cursor().copy(statement) as copy:
        for chunk in storage.chunks(store, obj.key):
            sha.update(chunk)
            copy.write(chunk)
    return None if sha.hexdigest() == obj.sha256 else f"{obj.file}: sha256 differs from the manifest's"


def _check(conn: Any, stat: TableStat, tenant: str, schema: str, problems: list[str]) -> TableCheck:
    rows, checksum = checksums.tenant_rows(conn, stat.name, stat.columns, rls.TENANT_COLUMN, tenant, schema)
    ok = checksum == stat.checksum
    if rows != stat.rows or not ok:
        problems.append(f"{stat.name}: {rows} rows (backup: {stat.rows}), checksum {'ok' if ok else 'differs'}")
    return TableCheck(name=stat.name, rows=rows, expected_rows=stat.rows, checksum_ok=ok)


def _direct(
    tenv: Any, store: storage.Store, manifest: BackupManifest, record: TenantRecord
) -> tuple[list[TableCheck], int]:
    from psycopg import sql

    by_table = {o.table: o for o in manifest.objects}
    checks: list[TableCheck] = []
    problems: list[str] = []
    conn = pg.connect(tenv.endpoint.server, tenv.endpoint.database, application_name=APPLICATION)
    with conn, _collisions(manifest):
        try:
            conn.execute("BEGIN")
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(ident(tenv.endpoint.owner_role)))
            for stat in manifest.tables:
                temp = ident(f"restore_{stat.name}")
                conn.execute(
                    sql.SQL("CREATE TEMP TABLE {} (LIKE {}.{} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                        temp, ident(rls.SHARED_SCHEMA), ident(stat.name)
                    )
                )
                if problem := _load(conn, store, by_table[stat.name], temp, stat.columns):
                    problems.append(problem)
                target = sql.SQL("{}.{}").format(ident(rls.SHARED_SCHEMA), ident(stat.name))
                _move(conn, temp, target, stat.columns, record.name)
                checks.append(_check(conn, stat, record.name, rls.SHARED_SCHEMA, problems))
            if problems:
                raise InfractlError(f"the restored rows of {record.name} do not match the backup", details=problems)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
    return checks, len(manifest.objects)


def _move(conn: Any, source: Any, target: Any, cols: list[str], tenant: str) -> None:
    """Rewrite the tenant column of `source` to `tenant` and insert its rows into `target` (columns `cols`)."""
    from psycopg import sql

    conn.execute(sql.SQL("UPDATE {} SET {} = %s").format(source, ident(rls.TENANT_COLUMN)), (tenant,))
    names = sql.SQL(", ").join(ident(c) for c in cols)
    conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(target, names, names, source))


@contextlib.contextmanager
def _collisions(manifest: BackupManifest):
    from psycopg import errors

    try:
        yield
    except errors.UniqueViolation as exc:
        raise ConflictError(
            f"rows of the backup collide with rows already in the shared tables ({exc.diag.table_name}):"
            f" the source tenant {manifest.tenant} still has them",
            hint="tier A rows keep their keys: restore under another name only once the source's rows are gone",
        ) from None


def _through_scratch(
    tenv: Any, store: storage.Store, manifest: BackupManifest, record: TenantRecord, shared: str | None
) -> tuple[list[TableCheck], int]:
    from psycopg import sql

    from infractl.adapters import migrations

    owner = tenv.endpoint.owner_role
    scratch = f"infractl_restore_{secrets.token_hex(6)}"
    server, database = tenv.endpoint.server, tenv.endpoint.database
    by_table = {o.table: o for o in manifest.objects}
    checks: list[TableCheck] = []
    problems: list[str] = []
    conn = pg.connect(server, database, application_name=APPLICATION)
    with conn, pg.engine(server, database, application_name=APPLICATION) as engine, engine.connect() as chain:
        conn.execute(sql.SQL("SET ROLE {}").format(ident(owner)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident(scratch)))
        try:
            chain.exec_driver_sql(f"SET ROLE {_quote(owner)}")
            chain.commit()
            migrations.upgrade(chain, manifest.head, schema=scratch)
            for stat in manifest.tables:  # the backup as it was, checked at its own revision
                into = sql.SQL("{}.{}").format(ident(scratch), ident(stat.name))
                if problem := _load(conn, store, by_table[stat.name], into, stat.columns):
                    problems.append(problem)
                checks.append(_check(conn, stat, manifest.tenant, scratch, problems))
            if problems:
                raise InfractlError(f"the backup's rows of {manifest.tenant} do not match it", details=problems)
            migrations.upgrade(chain, shared, schema=scratch)  # what the migrations did to everyone else's rows
            with _collisions(manifest):
                conn.execute("BEGIN")
                for table in rls.tenant_tables(conn):
                    there = set(rls.columns(conn, table, scratch))
                    cols = [c for c in rls.columns(conn, table) if c in there]
                    if not cols:
                        continue
                    source = sql.SQL("{}.{}").format(ident(scratch), ident(table))
                    target = sql.SQL("{}.{}").format(ident(rls.SHARED_SCHEMA), ident(table))
                    _move(conn, source, target, cols, record.name)
                    moved = checksums.count(conn, table, scratch)
                    landed = rls.count_rows(conn, record.name, [table])[table]
                    if landed != moved:
                        problems.append(f"{table}: {landed} rows in the shared table, {moved} migrated")
                if problems:
                    raise InfractlError(f"the rows of {record.name} did not all land", details=problems)
                conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        finally:
            with contextlib.suppress(Exception):
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(scratch)))
    return checks, len(manifest.objects)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
