"""Benchmark: `infractl db migrate` over 500 tier B schemas against a serial per-schema loop, in the same run, on the
same PostgreSQL (issue 16: the fan-out >= 2x faster than the serial loop).

Every side takes the same 500 empty tenant schemas from base to head (the whole chain) in a local PostgreSQL
(adapters.localservices, as the dev stack and the tests run it); the schemas are dropped and created again between
sides (not timed). The shared target is migrated before, so each side does the 500 schemas only.

- serial loop: for each schema, Alembic's own `command.upgrade(config, "head")` with `-x url=... -x schema=...`
  (the chain's env.py), one schema after another. This is the naive way a team would script it: Alembic's command
  line in a for loop, which is what "Alembic and Flyway run one database at a time" means in practice; every call
  loads the script directory, runs env.py and opens a connection.
- the fan-out at --parallel 1: the same runner infractl uses, one loaded chain and one reused connection, one
  target after another: what reusing adds, without any parallelism;
- the fan-out at its default parallelism (min(8, 2 per CPU));
- a re-run with every target already at head (what a resume pays per done target).

Run with `make bench` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from infractl.adapters import localservices, pg  # noqa: E402
from infractl.models.db import Target, TenantRecord, tenant_ident  # noqa: E402
from infractl.services.db import catalog, fanout, migrate  # noqa: E402
from infractl.services.db.connect import DbEndpoint  # noqa: E402

SCRIPTS = REPO / "src" / "controlplane" / "migrations"
DATABASE = "controlplane"


def names(count: int) -> list[str]:
    return [f"bench-{i:04d}" for i in range(count)]


def prepare(server: pg.PgServer, count: int) -> None:
    with pg.connect(server, "postgres") as conn:
        conn.execute("CREATE ROLE controlplane LOGIN")
        conn.execute("CREATE DATABASE controlplane OWNER controlplane")
    with pg.connect(server, DATABASE) as conn:
        catalog.ensure(conn)
        with conn.transaction():
            for name in names(count):
                ident = tenant_ident(name)
                conn.execute(f'CREATE ROLE "{ident}"')
                catalog.insert(
                    conn,
                    TenantRecord(name=name, tier="B", role=ident, schema_name=ident, database=DATABASE, state="ready"),
                )


def reset_schemas(server: pg.PgServer, count: int) -> None:
    with pg.connect(server, DATABASE) as conn:  # one schema a transaction: 500 at once exhaust the lock table
        for name in names(count):
            ident = tenant_ident(name)
            conn.execute(f'DROP SCHEMA IF EXISTS "{ident}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{ident}" AUTHORIZATION "{ident}"')


def serial_alembic(server: pg.PgServer, count: int) -> float:
    from alembic import command
    from alembic.config import Config

    url = f"postgresql+psycopg://{server.user}@{server.host}:{server.port}/{DATABASE}"
    began = time.perf_counter()
    for name in names(count):
        config = Config()
        config.set_main_option("script_location", str(SCRIPTS))
        config.cmd_opts = argparse.Namespace(x=[f"url={url}", f"schema={tenant_ident(name)}"])
        command.upgrade(config, "head")
    return time.perf_counter() - began


def fan_out(endpoint: DbEndpoint, parallel: int) -> tuple[float, dict[str, int]]:
    began = time.perf_counter()
    result = fanout.migrate_env(endpoint, phase="contract", parallel=parallel)
    return time.perf_counter() - began, result.summary


def at_head(server: pg.PgServer, count: int) -> int:
    from infractl.adapters import migrations

    head = migrations.head()
    with pg.connect(server, DATABASE) as conn:
        return sum(
            1
            for name in names(count)
            if conn.execute(f'SELECT version_num FROM "{tenant_ident(name)}".alembic_version').fetchone() == (head,)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=int, default=500)
    args = parser.parse_args()
    count = args.schemas
    default = fanout.default_parallel()
    with tempfile.TemporaryDirectory(prefix="infractl-bench-migrations-") as tmp:
        running = localservices.start_postgres(Path(tmp), localservices.free_port())
        try:
            server = pg.PgServer(host="127.0.0.1", port=running.port, user="postgres", label="the bench PostgreSQL")
            endpoint = DbEndpoint(env="bench", server=server, local=True)
            print(f"preparing {count} tier B tenants (roles, schemas, catalog rows) ...", flush=True)
            prepare(server, count)
            shared = migrate.migrate_target(endpoint, Target(name="shared", kind="shared", database=DATABASE))
            assert shared.status == "applied", shared

            rows = []
            reset_schemas(server, count)
            print(f"serial loop: alembic command.upgrade per schema, {count} schemas ...", flush=True)
            naive = serial_alembic(server, count)
            assert at_head(server, count) == count
            rows.append((f"serial loop (alembic command.upgrade x {count})", naive, ""))
            print(f"  {naive:.1f} s", flush=True)

            for parallel in (1, default):
                reset_schemas(server, count)
                print(f"infractl fan-out, --parallel {parallel} ...", flush=True)
                seconds, summary = fan_out(endpoint, parallel)
                assert summary["applied"] == count and summary["failed"] == 0, summary
                assert at_head(server, count) == count
                rows.append((f"infractl db migrate --parallel {parallel}", seconds, ""))
                print(f"  {seconds:.1f} s", flush=True)
            fanned = rows[-1][1]
            print("re-run, every target at head ...", flush=True)
            again, summary = fan_out(endpoint, default)
            assert summary["skipped"] == count + 1, summary
            rows.append(("re-run (all at head: resume cost)", again, f"{again / count * 1000:.1f} ms per target"))
        finally:
            with contextlib.suppress(Exception):
                localservices.stop(running)
                localservices.remove_postgres_data(running)
    print()
    for label, seconds, note in rows:
        print(f"{label:<46} {seconds:8.2f} s   {note}")
    print()
    print(f"speed-up of the fan-out (--parallel {default}) over the serial loop: {naive / fanned:.2f}x (goal >= 2x)")
    print(f"what reuse alone gives (--parallel 1 vs the loop): {naive / rows[1][1]:.2f}x")
    print(f"what parallelism adds (--parallel {default} vs 1):   {rows[1][1] / fanned:.2f}x on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
