"""Row counts and content checksums, and the migration revision a target is at.

What is checked where (docs/tenants.md#checksums, measured by benchmarks/tenant_backup.py):
- tier A: per table, the exact row count and a content checksum: md5 over the sorted md5 of each row's text with
  the tenant column left out (so a restore under another name compares equal). Tier A tenants are slices of
  shared tables; hashing their rows costs little.
- tiers B and C: per table, the exact row count (counted in the dump's own snapshot), plus the sha256 of every dump
  file, checked as the restore reads it. A server-side hash of every row of a 1 GB database costs about as much
  as the dump itself (benchmark), far over the 10 % the backup may add; the file hashes prove the restore read
  exactly the bytes pg_dump wrote, the counts prove pg_restore loaded every row of them."""

from __future__ import annotations

from typing import Any

from infractl.adapters.pg import ident

VERSION_TABLE = "alembic_version"  # the migration library's version table (in each target's schema)
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

A_METHOD = (
    "per table: exact row count and md5 over the sorted md5 of each row (tenant column left out); sha256 of each"
    " COPY stream"
)
DUMP_METHOD = (
    "sha256 of every dump file (checked while the restore reads it); exact row count per table (dump snapshot)"
)


def revision(conn: Any, schema: str = "public") -> str | None:
    """The revision recorded in <schema>.alembic_version (None: never migrated)."""
    from psycopg import sql

    found = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s"
        " AND c.relname = %s",
        (schema, VERSION_TABLE),
    ).fetchone()
    if not found:
        return None
    row = conn.execute(sql.SQL("SELECT version_num FROM {}.{}").format(ident(schema), ident(VERSION_TABLE))).fetchone()
    return row[0] if row else None


def tables(conn: Any, schema: str | None = None) -> list[str]:
    """The ordinary tables of `schema` (None: of every user schema, as schema.table), sorted."""
    if schema is not None:
        rows = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY 1",
            (schema,),
        ).fetchall()
        return [r[0] for r in rows]
    rows = conn.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_temp%%'"
        " AND n.nspname NOT LIKE 'pg_toast_temp%%' ORDER BY 1",
        (list(SYSTEM_SCHEMAS),),
    ).fetchall()
    return [r[0] for r in rows]


def _qualified(name: str, schema: str | None) -> Any:
    from psycopg import sql

    if schema is not None:
        return sql.SQL("{}.{}").format(ident(schema), ident(name))
    owner, table = name.split(".", 1)
    return sql.SQL("{}.{}").format(ident(owner), ident(table))


def count(conn: Any, name: str, schema: str | None = None) -> int:
    from psycopg import sql

    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(_qualified(name, schema))).fetchone()[0]


def counts(conn: Any, names: list[str], schema: str | None = None) -> dict[str, int]:
    return {n: count(conn, n, schema) for n in names}


def tenant_rows(
    conn: Any, table: str, cols: list[str], tenant_column: str, tenant: str, schema: str
) -> tuple[int, str]:
    """(rows, checksum) of one tenant's rows of a shared table, the tenant column left out of the checksum."""
    from psycopg import sql

    hashed = [c for c in cols if c != tenant_column]
    row = sql.SQL("ROW({})").format(sql.SQL(", ").join(ident(c) for c in hashed))
    query = sql.SQL(
        "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') FROM"
        " (SELECT md5({}::text) AS h FROM {}.{} WHERE {} = %s) AS rows"
    ).format(row, ident(schema), ident(table), ident(tenant_column))
    n, checksum = conn.execute(query, (tenant,)).fetchone()
    return n, checksum


def counts_parallel(server: Any, database: str, names: list[str], schema: str | None, *, jobs: int = 2) -> dict:
    """count() of `names` on `jobs` connections at once (a restore's check: the tables of a big tenant are counted
    side by side, as pg_restore --jobs loaded them). Tables that do not exist are left out."""
    from concurrent.futures import ThreadPoolExecutor

    from infractl.adapters import pg

    def one(name: str) -> tuple[str, int | None]:
        with pg.connect(server, database, application_name="infractl-tenant-check") as conn:
            qualified = f"{schema}.{name}" if schema is not None else name
            exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (_regclass(qualified),)).fetchone()[0]
            return name, count(conn, name, schema) if exists else None

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="tenant-count") as pool:
        found = dict(pool.map(one, names))
    return {n: c for n, c in found.items() if c is not None}


def _regclass(qualified: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in qualified.split(".", 1))
