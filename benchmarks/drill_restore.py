"""Benchmark: the DR drill's restore (issue 19: <= 1.1x a raw restore of the same data) in the same run, on the same
base backup and WAL, with the same binaries.

Setup (not timed): a local PostgreSQL archiving WAL exactly as the dev stack's does (postgres.archive_settings: one
gzipped file a segment), a pgbench-initialised database of about 200 MB (scale 14), a base backup (pg_basebackup,
plain, -X none), then a pgbench write load so that the restore replays real WAL, the last segment switched and
archived, and the archive frozen (pgarchive.freeze, as the drill's loss step does).

- the drill: `database.restore_instance`, what the drill's restore step runs: copy of the backup (cp -a),
  recovery.signal, the server started through localservices with the restore settings, polled until promoted;
- raw: the same by hand, the way a runbook does it: cp -a, recovery.signal, restore_command in
  postgresql.auto.conf, `pg_ctl start -w` (which returns while recovery still runs), then polling every 50 ms
  (as the drill does) until `SELECT pg_is_in_recovery()` answers false.

Both sides read the same gzipped segments with the same restore_command and run with the same server settings
(the dev stack's: fsync, full_page_writes and synchronous_commit off). Each side runs --rounds times, alternating
which goes first; the medians are compared.

Run with `make bench`, or alone: `python benchmarks/drill_restore.py [--scale 14] [--rounds 5]` (about a minute).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from infractl.adapters import localservices, pg, pgarchive, postgres, process  # noqa: E402
from infractl.services.drill import database  # noqa: E402

HOST = "127.0.0.1"


def pgbench(bindir: Path, port: int, *args: str) -> None:
    argv = [str(bindir / "pgbench"), "-h", HOST, "-p", str(port), "-U", postgres.ADMIN_USER, *args, "postgres"]
    process.run(argv, env=process.clean_env(drop_prefixes=("PG",)), timeout=1800)


def as_server_user(argv: list[str], run_as: str) -> list[str]:
    return ["runuser", "-u", run_as, "--", *argv] if run_as else argv


def drill_restore(backup: Path, data: Path, archive: Path, logs: Path, run_as: str) -> float:
    began = time.perf_counter()
    running = database.restore_instance(backup, data, archive, logs, run_as=run_as)
    seconds = time.perf_counter() - began
    localservices.stop(running)
    return seconds


def raw_restore(bindir: Path, backup: Path, data: Path, archive: Path, logs: Path, run_as: str) -> float:
    port = localservices.free_port()
    options = " ".join(
        f"-c {k}={v}"
        for k, v in {
            "listen_addresses": HOST,
            "unix_socket_directories": "''",
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "port": str(port),
        }.items()
    )
    began = time.perf_counter()
    process.run(["cp", "-a", str(backup), str(data)])
    (data / "recovery.signal").touch()
    with open(data / "postgresql.auto.conf", "a") as conf:
        conf.write(f"restore_command = '{postgres.restore_command(archive)}'\n")
        conf.write("archive_mode = off\nhot_standby = off\n")
    if run_as:
        shutil.chown(data / "recovery.signal", run_as, run_as)
    log = logs / "raw-restore.log"
    log.touch()
    if run_as:
        shutil.chown(log, run_as, run_as)
    ctl = str(bindir / "pg_ctl")
    env = process.clean_env(drop_prefixes=("PG",))
    process.run(
        as_server_user([ctl, "start", "-w", "-t", "600", "-D", str(data), "-l", str(log), "-o", options], run_as),
        env=env,
        timeout=660,
    )
    wait_writable(port)
    seconds = time.perf_counter() - began
    process.run(as_server_user([ctl, "stop", "-m", "fast", "-w", "-D", str(data)], run_as), env=env, timeout=120)
    return seconds


def wait_writable(port: int, timeout: float = 600) -> None:
    """pg_ctl -w returns once the server runs, during recovery too: poll (every 50 ms, as the drill does) until a
    connection is accepted and the server is out of recovery, as a runbook's `until psql ...` loop does."""
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(host=HOST, port=port, user=postgres.ADMIN_USER, dbname="postgres") as conn:
                if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False:
                    return
        except psycopg.OperationalError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"the raw restore on port {port} did not leave recovery within {timeout:.0f} s")


def rows(port: int) -> int:
    with pg.connect(pg.PgServer(HOST, port, postgres.ADMIN_USER), "postgres") as conn:
        return int(conn.execute("SELECT count(*) FROM pgbench_history").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=14, help="pgbench scale (14: about 200 MB)")
    parser.add_argument("--load-seconds", type=int, default=20, help="pgbench write load after the base backup")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    as_root = os.geteuid() == 0
    run_as = postgres.ADMIN_USER if as_root else ""
    bindir = postgres.find_bindir()
    with tempfile.TemporaryDirectory(prefix="infractl-bench-restore-") as tmp:
        base = Path(tmp)
        os.chmod(base, 0o711)
        archive = postgres.server_dir(base, "wal-archive", as_root)
        work = postgres.server_dir(base, "restore", as_root)
        source = localservices.start_postgres(
            base, localservices.free_port(), settings=postgres.archive_settings(archive)
        )
        try:
            print(f"pgbench -i -s {args.scale} ...", flush=True)
            pgbench(bindir, source.port, "-i", "-q", "-s", str(args.scale))
            print("base backup ...", flush=True)
            backup = pgarchive.base_backup(bindir, HOST, source.port, work / "base", run_as=run_as)
            print(f"  {backup.bytes / 1e6:.0f} MB in {backup.seconds:.1f} s", flush=True)
            print(f"pgbench write load, {args.load_seconds} s ...", flush=True)
            pgbench(bindir, source.port, "-c", "2", "-T", str(args.load_seconds), "-n")
            expected = rows(source.port)
            with pg.connect(pg.PgServer(HOST, source.port, postgres.ADMIN_USER), "postgres") as conn:
                pgarchive.wait_archived(conn, pgarchive.switch_wal(conn), 120)
            frozen = work / "archive"
            pgarchive.freeze(archive, frozen)
            segments = pgarchive.archive_segments(frozen)
            wal = [s for s in segments if s >= backup.start_segment]
            assert not pgarchive.continuity(backup.start_segment, segments)
            print(f"  {expected:,} pgbench transactions; the restore replays {len(wal)} WAL segments", flush=True)
        finally:
            localservices.stop(source)

        times: dict[str, list[float]] = {"drill": [], "raw": []}
        for i in range(args.rounds):
            order = ("drill", "raw") if i % 2 == 0 else ("raw", "drill")
            for side in order:
                data = work / f"data-{side}-{i}"
                if side == "drill":
                    seconds = drill_restore(backup.path, data, frozen, base, run_as)
                else:
                    seconds = raw_restore(bindir, backup.path, data, frozen, base, run_as)
                times[side].append(seconds)
                print(f"round {i + 1}: {side:<5} {seconds:6.2f} s", flush=True)
                shutil.rmtree(data, ignore_errors=True)
        with contextlib.suppress(Exception):
            localservices.remove_postgres_data(source)
    drill, raw = statistics.median(times["drill"]), statistics.median(times["raw"])
    print()
    print(f"{'raw restore (cp -a, recovery.signal, pg_ctl start -w)':<56} {raw:8.2f} s   (median of {args.rounds})")
    print(f"{'drill restore (database.restore_instance)':<56} {drill:8.2f} s   (median of {args.rounds})")
    print()
    print(f"the drill's restore / a raw restore of the same data: {drill / raw:.2f}x (goal <= 1.1x)")


if __name__ == "__main__":
    main()
