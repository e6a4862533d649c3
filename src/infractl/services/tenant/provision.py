"""The database objects of a tenant — its role, its tier B schema, its tier C database — and the undo stack that
makes creating them all-or-nothing. Every statement quotes its identifiers (psycopg.sql); names were checked by
session.check_name before they got here. Every drop is idempotent (IF EXISTS), so an interrupted delete re-runs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infractl.adapters.pg import ident

SCRAM_ITERATIONS = 4096  # PostgreSQL's default (scram_iterations)


@dataclass
class Undo:
    """What a create did so far, undone in reverse order when a later step fails."""

    steps: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    done: list[str] = field(default_factory=list)

    def did(self, what: str, undo: Callable[[], None]) -> None:
        self.done.append(what)
        self.steps.append((what, undo))

    def rollback(self) -> list[str]:
        """Undo every step, newest first; the steps whose undo failed, with why (the others are gone)."""
        failed = []
        for what, undo in reversed(self.steps):
            try:
                undo()
            except Exception as exc:  # keep undoing the rest; report what is left
                failed.append(f"{what}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")
        self.steps.clear()
        return failed


def new_password() -> str:
    return secrets.token_urlsafe(24)


def scram_verifier(password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password`: sent instead of the password, so the plain text
    never reaches the server (nor its statement log)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


# ---------------------------------------------------------------------------------------------- existence


def role_exists(conn: Any, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def schema_exists(conn: Any, schema: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


def database_exists(conn: Any, database: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None


# ---------------------------------------------------------------------------------------------- roles


def create_role(conn: Any, role: str, *, password: str | None, search_path: str | None = None) -> None:
    """A role that logs in with `password` (None: NOLOGIN, used through membership or the secrets engine)."""
    from psycopg import sql

    if password is None:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(ident(role)))
    else:
        verifier = scram_verifier(password)
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident(role), sql.Literal(verifier)))
    if search_path:
        conn.execute(sql.SQL("ALTER ROLE {} SET search_path = {}").format(ident(role), ident(search_path)))
    _admin_may_act_as(conn, role)


def _admin_may_act_as(conn: Any, role: str) -> None:
    """An admin that is not a superuser (RDS's master user) becomes a member of the tenant's role, so that it may
    SET ROLE to it (migrations and restores run as the tenant) and make it an owner."""
    from psycopg import sql

    if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(ident(role)))


def create_manager_role(conn: Any, manager: str, role: str, password: str) -> None:
    """The login Vault's database secrets engine uses to issue a tenant's users: it may create roles and grant only
    membership in the tenant's role (ADMIN OPTION; PostgreSQL 16 limits CREATEROLE to that)."""
    from psycopg import sql

    verifier = scram_verifier(password)
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(ident(manager), sql.Literal(verifier)))
    conn.execute(sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(ident(role), ident(manager)))
    _admin_may_act_as(conn, manager)


def drop_role(conn: Any, role: str) -> bool:
    """Drop `role` after dropping what it owns and was granted in this database (the shared one). False when it
    was already gone. Members it has (users the secrets engine issued) are dropped first."""
    from psycopg import sql

    if not role_exists(conn, role):
        return False
    members = conn.execute(
        "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid"
        " JOIN pg_roles m ON m.oid = a.member WHERE r.rolname = %s AND m.rolname LIKE 'v-%%'",
        (role,),
    ).fetchall()
    for (member,) in members:  # issued users (v-<mount>-<role>-...) left by leases that were not revoked
        conn.execute(sql.SQL("DROP OWNED BY {}").format(ident(member)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(ident(member)))
    conn.execute(sql.SQL("DROP OWNED BY {}").format(ident(role)))
    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(ident(role)))
    return True


# ---------------------------------------------------------------------------------------------- tier B


def create_schema(conn: Any, schema: str, role: str) -> None:
    """A schema owned by the tenant's role, nobody else's to use."""
    from psycopg import sql

    conn.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(ident(schema), ident(role)))
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident(schema)))


def drop_schema(conn: Any, schema: str) -> bool:
    from psycopg import sql

    if not schema_exists(conn, schema):
        return False
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(schema)))
    return True


def rename_schema(conn: Any, old: str, new: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(ident(old), ident(new)))


# ---------------------------------------------------------------------------------------------- tier C


def create_database(conn: Any, database: str, role: str) -> None:
    """A database owned by the tenant's role; CONNECT (and TEMPORARY) revoked from PUBLIC."""
    from psycopg import sql

    conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(ident(database), ident(role)))
    conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(ident(database)))
    conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(ident(database), ident(role)))


def adoptable(conn: Any, database: str) -> bool:
    """True when `database` (connected to as `conn`) is the empty one the data stack created with a dedicated
    instance (RDS `db_name`): owned by the admin, no table in it yet."""
    owner = conn.execute(
        "SELECT pg_get_userbyid(datdba) = current_user FROM pg_database WHERE datname = current_database()"
    ).fetchone()[0]
    tables = conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
    ).fetchone()[0]
    return bool(owner) and tables == 0


def adopt_database(conn: Any, database: str, role: str) -> None:
    """The data stack's database of a dedicated instance becomes the tenant's, as create_database would make it."""
    from psycopg import sql

    conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident(database), ident(role)))
    conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(ident(database)))
    conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(ident(database), ident(role)))


def release_database(conn: Any, database: str, admin: str) -> None:
    """Undo adopt_database: back to the admin, CONNECT for PUBLIC again (as the data stack made it)."""
    from psycopg import sql

    conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident(database), ident(admin)))
    conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO PUBLIC").format(ident(database)))


def grant_connect(conn: Any, database: str, role: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(ident(database), ident(role)))


def drop_database(conn: Any, database: str) -> bool:
    """DROP DATABASE ... WITH (FORCE): sessions still connected (the tenant's application) are ended."""
    from psycopg import sql

    if not database_exists(conn, database):
        return False
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident(database)))
    return True


def owned_to(conn: Any, schema: str, role: str) -> None:
    """Every table, sequence and view of `schema` owned by `role` (after a restore run as the admin role)."""
    from psycopg import sql

    rows = conn.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY c.relkind = 'S'",
        (schema,),
    ).fetchall()
    for name, kind in rows:
        verb = {"S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW"}.get(kind, "TABLE")
        conn.execute(
            sql.SQL("ALTER {} {}.{} OWNER TO {}").format(sql.SQL(verb), ident(schema), ident(name), ident(role))
        )
