"""PostgreSQL as a client: a server's address and credentials, connections (psycopg), SQLAlchemy engines (for the
migration library) and the environment of its client programs (pg_dump, pg_restore). Passwords travel in
PGPASSWORD or the connection arguments, never on a command line or in a printed URL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from infractl.errors import CloudError


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str | None = field(default=None, repr=False)
    sslmode: str | None = None
    label: str = "postgres"  # how errors name it: "the dev stack's PostgreSQL", "prod's RDS instance", ...

    def kwargs(self, database: str, **extra: Any) -> dict[str, Any]:
        args: dict[str, Any] = {"host": self.host, "port": self.port, "user": self.user, "dbname": database}
        if self.password:
            args["password"] = self.password
        if self.sslmode:
            args["sslmode"] = self.sslmode
        args.setdefault("connect_timeout", 10)
        return {**args, **extra}

    def where(self, database: str) -> str:
        """host:port/database, for messages (no credentials)."""
        return f"{self.host}:{self.port}/{database}"

    def client_env(self) -> dict[str, str]:
        """PG* variables for pg_dump/pg_restore/psql (merged into a clean environment by the caller)."""
        env = {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user, "PGCONNECT_TIMEOUT": "10"}
        if self.password:
            env["PGPASSWORD"] = self.password
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode
        return env


def connect(server: PgServer, database: str, *, autocommit: bool = True, application_name: str = "infractl"):
    """A psycopg connection; a refused or failed connection is a CloudError naming the server (no password)."""
    import psycopg

    try:
        return psycopg.connect(**server.kwargs(database, application_name=application_name), autocommit=autocommit)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CloudError(
            f"cannot connect to {server.label} at {server.where(database)}: {first}",
            hint="is it running and reachable? (locally: `infractl dev status`)",
        ) from None


@contextlib.contextmanager
def engine(server: PgServer, database: str, *, pool_size: int = 1, application_name: str = "infractl") -> Iterator[Any]:
    """A SQLAlchemy engine on psycopg 3 for the migration library, disposed on exit."""
    import sqlalchemy

    url = sqlalchemy.engine.URL.create(
        "postgresql+psycopg",
        username=server.user,
        password=server.password,
        host=server.host,
        port=server.port,
        database=database,
        query={"application_name": application_name, **({"sslmode": server.sslmode} if server.sslmode else {})},
    )
    eng = sqlalchemy.create_engine(url, pool_size=pool_size, max_overflow=0, pool_pre_ping=False)
    try:
        yield eng
    finally:
        eng.dispose()


def ident(name: str):
    """A quoted identifier (psycopg.sql.Identifier)."""
    from psycopg import sql

    return sql.Identifier(name)


def advisory_key(text: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock from a text (the same in every process)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)
