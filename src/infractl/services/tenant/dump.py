"""pg_dump and pg_restore (from adapters/postgres.find_bindir(), run through adapters/process.py). The argv
builders are pure; credentials travel in the environment (PgServer.client_env: PGPASSWORD), never in argv."""

from __future__ import annotations

import re
from pathlib import Path

from infractl.adapters import postgres, process
from infractl.adapters.pg import PgServer

JOBS = 2
# gzip level of the dump's data files. pg_dump's default (zlib's 6) makes the dump CPU-bound: on this project's
# benchmark (1 GB tier C tenant, 2 CPUs) level 1 dumps in about two thirds of the time for files about 10% larger,
# and pg_restore inflates both equally fast. pg_dump compresses on the machine running infractl, whose CPU is what
# the dump waits for; 10% more bytes in S3 cost less than that time. pg_restore reads any level.
COMPRESS = 1


def tool(name: str) -> str:
    return str(postgres.find_bindir() / name)


def version() -> str:
    """`pg_dump --version`, e.g. "pg_dump (PostgreSQL) 15.18"."""
    return process.run([tool("pg_dump"), "--version"]).stdout.strip()


def env(server: PgServer) -> dict[str, str]:
    return process.clean_env(drop_prefixes=("PG",)) | server.client_env()


def dump_argv(
    binary: str,
    folder: Path,
    database: str,
    *,
    schema: str | None = None,
    snapshot: str | None = None,
    jobs: int = JOBS,
    compress: int | None = COMPRESS,
) -> list[str]:
    """Directory format, `jobs` tables at a time, gzip level `compress` (None: pg_dump's default); one schema
    (tier B) or the whole database (tier C)."""
    argv = [binary, "--format=directory", f"--jobs={jobs}", f"--file={folder}", "--no-password"]
    if compress is not None:
        argv.append(f"--compress={compress}")
    if snapshot:
        argv.append(f"--snapshot={snapshot}")
    if schema:
        argv.append(f"--schema={schema}")
    return [*argv, f"--dbname={database}"]


def restore_argv(
    binary: str,
    folder: Path,
    database: str,
    *,
    role: str | None = None,
    use_list: Path | None = None,
    jobs: int = JOBS,
) -> list[str]:
    """Without the dump's owners and privileges (the tenant's role of the restore gets them: `role`, SET ROLE for
    every object), stopping at the first error."""
    argv = [
        binary,
        f"--dbname={database}",
        f"--jobs={jobs}",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--no-password",
    ]
    if role:
        argv.append(f"--role={role}")
    if use_list:
        argv.append(f"--use-list={use_list}")
    return [*argv, str(folder)]


def run_dump(server: PgServer, folder: Path, database: str, *, schema: str | None, snapshot: str | None) -> None:
    process.run(dump_argv(tool("pg_dump"), folder, database, schema=schema, snapshot=snapshot), env=env(server))


def run_restore(
    server: PgServer, folder: Path, database: str, *, role: str | None, use_list: Path | None = None
) -> None:
    argv = restore_argv(tool("pg_restore"), folder, database, role=role, use_list=use_list)
    process.run(argv, env=env(server))


SCHEMA_ENTRY = re.compile(r"^\d+; \d+ \d+ SCHEMA - (?P<name>\S+) ")


def toc_without_schema(folder: Path, schema: str, out: Path) -> Path:
    """The dump's table of contents (`pg_restore --list`) without the CREATE SCHEMA of `schema`: the restore
    creates the schema itself, owned by the tenant's role."""
    listing = process.run([tool("pg_restore"), "--list", str(folder)]).stdout
    kept = [line for line in listing.splitlines() if not ((m := SCHEMA_ENTRY.match(line)) and m["name"] == schema)]
    out.write_text("\n".join(kept) + "\n")
    return out


DATA_FILE = re.compile(r"^\d+\.dat(\.gz|\.lz4|\.zst)?$")


def is_data_file(name: str) -> bool:
    """A table's data in a directory-format dump (<dump id>.dat[.gz]): read once, front to back, by pg_restore."""
    return bool(DATA_FILE.match(name))
