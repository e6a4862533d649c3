"""Tier A: the shared schema's tenant-owned tables (every table with a `tenant` column), row-level security on
them and one policy per tier A tenant role: `USING (tenant = '<name>') WITH CHECK (tenant = '<name>')`.

The tables belong to the runtime's role (the endpoint's owner_role), which bypasses row-level security as their
owner (no FORCE), so enabling it changes nothing for the runtime. Statements that need the owner (ENABLE ROW LEVEL
SECURITY, CREATE POLICY, GRANT) run under `SET ROLE <owner>`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from infractl.adapters.pg import ident

TENANT_COLUMN = "tenant"
SHARED_SCHEMA = "public"
PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def policy_name(role: str) -> str:
    return role  # one policy per tenant role and table: tenant_<name>


def tenant_tables(conn: Any, schema: str = SHARED_SCHEMA) -> list[str]:
    """The ordinary tables of `schema` with a `tenant` column, by name."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND a.attname = %s AND NOT a.attisdropped"
        " ORDER BY c.relname",
        (schema, TENANT_COLUMN),
    ).fetchall()
    return [r[0] for r in rows]


def columns(conn: Any, table: str, schema: str = SHARED_SCHEMA) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (schema, table),
    ).fetchall()
    return [r[0] for r in rows]


@contextlib.contextmanager
def as_role(conn: Any, role: str) -> Iterator[None]:
    from psycopg import sql

    conn.execute(sql.SQL("SET ROLE {}").format(ident(role)))
    try:
        yield
    finally:
        conn.execute("RESET ROLE")


def grant(conn: Any, role: str, owner: str, tables: list[str]) -> None:
    """The tenant's role may use the shared schema and read and write the tenant-owned tables (rows: its policy)."""
    from psycopg import sql

    with as_role(conn, owner):
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(SHARED_SCHEMA), ident(role)))
        for table in tables:
            conn.execute(
                sql.SQL("GRANT {} ON TABLE {}.{} TO {}").format(
                    sql.SQL(PRIVILEGES), ident(SHARED_SCHEMA), ident(table), ident(role)
                )
            )


def revoke(conn: Any, role: str, owner: str, tables: list[str]) -> None:
    from psycopg import sql

    with as_role(conn, owner):
        for table in tables:
            conn.execute(
                sql.SQL("REVOKE ALL ON TABLE {}.{} FROM {}").format(ident(SHARED_SCHEMA), ident(table), ident(role))
            )
        conn.execute(sql.SQL("REVOKE USAGE ON SCHEMA {} FROM {}").format(ident(SHARED_SCHEMA), ident(role)))


def enable(conn: Any, owner: str, tables: list[str]) -> list[str]:
    """ENABLE ROW LEVEL SECURITY where it is not yet on; the tables it was turned on for now."""
    from psycopg import sql

    off = [
        t
        for t in tables
        if not conn.execute(
            "SELECT c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = %s",
            (SHARED_SCHEMA, t),
        ).fetchone()[0]
    ]
    with as_role(conn, owner):
        for table in off:
            conn.execute(
                sql.SQL("ALTER TABLE {}.{} ENABLE ROW LEVEL SECURITY").format(ident(SHARED_SCHEMA), ident(table))
            )
    return off


def has_policy(conn: Any, table: str, role: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM pg_policies WHERE schemaname = %s AND tablename = %s AND policyname = %s",
            (SHARED_SCHEMA, table, policy_name(role)),
        ).fetchone()
        is not None
    )


def create_policies(conn: Any, name: str, role: str, owner: str, tables: list[str]) -> list[str]:
    """The tenant role's policy on every tenant-owned table that lacks it; the tables it was added to."""
    from psycopg import sql

    added = []
    with as_role(conn, owner):
        for table in tables:
            if has_policy(conn, table, role):
                continue
            conn.execute(
                sql.SQL(
                    "CREATE POLICY {} ON {}.{} AS PERMISSIVE FOR ALL TO {} USING ({} = {}) WITH CHECK ({} = {})"
                ).format(
                    ident(policy_name(role)),
                    ident(SHARED_SCHEMA),
                    ident(table),
                    ident(role),
                    ident(TENANT_COLUMN),
                    sql.Literal(name),
                    ident(TENANT_COLUMN),
                    sql.Literal(name),
                )
            )
            added.append(table)
    return added


def drop_policies(conn: Any, role: str, owner: str) -> list[str]:
    """Drop the tenant role's policy from every table of the shared schema; the tables it was on."""
    from psycopg import sql

    tables = [
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_policies WHERE schemaname = %s AND policyname = %s ORDER BY tablename",
            (SHARED_SCHEMA, policy_name(role)),
        ).fetchall()
    ]
    with as_role(conn, owner):
        for table in tables:
            conn.execute(
                sql.SQL("DROP POLICY IF EXISTS {} ON {}.{}").format(
                    ident(policy_name(role)), ident(SHARED_SCHEMA), ident(table)
                )
            )
    return tables


def delete_rows(conn: Any, name: str, owner: str, tables: list[str]) -> dict[str, int]:
    """Delete the tenant's rows from every tenant-owned table (as the owner, whom the policies do not restrict), in
    one transaction; the rows deleted per table."""
    from psycopg import sql

    deleted = {}
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(ident(owner)))
        for table in tables:
            cur = conn.execute(
                sql.SQL("DELETE FROM {}.{} WHERE {} = %s").format(
                    ident(SHARED_SCHEMA), ident(table), ident(TENANT_COLUMN)
                ),
                (name,),
            )
            deleted[table] = cur.rowcount
    return deleted


def count_rows(conn: Any, name: str, tables: list[str]) -> dict[str, int]:
    from psycopg import sql

    return {
        t: conn.execute(
            sql.SQL("SELECT count(*) FROM {}.{} WHERE {} = %s").format(
                ident(SHARED_SCHEMA), ident(t), ident(TENANT_COLUMN)
            ),
            (name,),
        ).fetchone()[0]
        for t in tables
    }


def reconcile(conn: Any, owner: str, tables: list[str], tenants: list[tuple[str, str]]) -> list[str]:
    """Bring every given tier A tenant (name, role) up to the tenant-owned tables there are now: a table a later
    migration added gets their grants and policies. Idempotent; what was added, per tenant."""
    added = []
    for name, role in tenants:
        grant(conn, role, owner, tables)  # GRANT is idempotent
        new = create_policies(conn, name, role, owner, tables)
        if new:
            added.append(f"{name}: policies on {', '.join(new)}")
    return added
