"""Benchmark: PostgreSQL failover through the stable endpoint of `infractl drill faults` (haproxy with the primary
check, adapters/haproxy.py): the time from SIGKILL of the primary to the first committed write through haproxy,
the replica promoted with `pg_ctl promote` at once. The baseline, in the same run and on the same kind of pair: the
same failover seen by a libpq multi-host connection string (`host=A,B target_session_attrs=read-write`, no proxy),
which reaches the promoted replica as soon as it accepts writes: the floor. Prints the medians and their ratio
(haproxy / libpq): what the stable endpoint's health checks add.

Each trial builds a fresh pair (initdb, pg_basebackup -R -X stream, the replica streaming) on free loopback ports,
so trials do not share state; both variants promote the same way, so the ratio isolates the endpoint.

Run: `.venv/bin/python benchmarks/failover.py [TRIALS]` (default 5; ~3 s a trial; needs PostgreSQL's server
binaries and Debian's haproxy, as `make install` provides; as root it runs PostgreSQL as the `postgres` user).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from infractl.adapters import haproxy
from infractl.adapters import localservices as ls
from infractl.adapters.pg import PgServer
from infractl.services.drill import harness as hs


@contextlib.contextmanager
def pair(base: Path) -> Iterator[tuple[ls.Running, ls.Running]]:
    """A primary and its streaming replica, stopped and removed afterwards."""
    started: list[ls.Running] = []
    try:
        primary = ls.start_postgres(base, ls.free_port())
        started.append(primary)
        bindir, run_as = Path(primary.extra["bindir"]), primary.extra.get("run_as", "")
        data = Path(primary.extra["data_dir"])
        replica_dir = data.parent / "replica"
        hs.base_backup(bindir, primary.port, replica_dir, run_as)
        replica = ls.start_postgres(base, ls.free_port(), name="replica", data=replica_dir)
        started.append(replica)
        deadline = time.monotonic() + 30
        while not hs.streaming(_server(primary.port)):
            if time.monotonic() > deadline:
                raise SystemExit("the replica did not start streaming within 30 s")
            time.sleep(0.05)
        yield primary, replica
    finally:
        for r in reversed(started):
            ls.stop(r)
        for r in started:
            shutil.rmtree(r.extra["data_dir"], ignore_errors=True)


def _server(port: int) -> PgServer:
    return PgServer(ls.HOST, port, ls.PG_ADMIN_USER)


def fail_over(primary: ls.Running, replica: ls.Running, first_write: Callable[[float], float]) -> float:
    """SIGKILL the primary, promote the replica, return first_write(t_kill): seconds to the first write."""
    bindir, run_as = Path(primary.extra["bindir"]), primary.extra.get("run_as", "")
    t_kill = time.monotonic()
    os.killpg(int(primary.extra.get("pgid", primary.pid)), signal.SIGKILL)
    hs.gone(primary)  # gone before the promotion (the fencing a real failover needs)
    ls.stop(primary)
    hs.promote(bindir, Path(replica.extra["data_dir"]), run_as)
    return first_write(t_kill)


def through_haproxy(base: Path) -> float:
    with pair(base) as (primary, replica):
        port = ls.free_port()
        servers = [("primary", ls.HOST, primary.port), ("replica", ls.HOST, replica.port)]
        psql = str(Path(primary.extra["bindir"]) / "psql")
        endpoint = haproxy.start(base, port, servers, psql=psql)
        try:
            haproxy.wait_status(endpoint, {"primary": "UP", "replica": "DOWN"}, 15)  # the checks' first verdict
            hs.first_write(_server(port), time.monotonic(), 15)  # haproxy routes to the primary
            return fail_over(primary, replica, lambda t: hs.first_write(_server(port), t, 30))
        finally:
            ls.stop(endpoint)


def through_libpq(base: Path) -> float:
    import psycopg

    with pair(base) as (primary, replica):
        dsn = (
            f"host={ls.HOST},{ls.HOST} port={primary.port},{replica.port} user={ls.PG_ADMIN_USER} dbname=postgres"
            " target_session_attrs=read-write connect_timeout=1"
        )

        def write(t0: float) -> float:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with psycopg.connect(dsn, autocommit=True) as conn:
                        conn.execute("CREATE TEMP TABLE IF NOT EXISTS drill_probe (at timestamptz)")
                        conn.execute("INSERT INTO drill_probe VALUES (now())")
                    return round(time.monotonic() - t0, 3)
                except psycopg.Error:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)

        write(time.monotonic())
        return fail_over(primary, replica, write)


def main() -> int:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    results: dict[str, list[float]] = {"haproxy": [], "libpq": []}
    for i in range(trials):
        for name, fn in (("haproxy", through_haproxy), ("libpq", through_libpq)):
            base = Path(tempfile.mkdtemp(prefix=f"failover-{name}-"))
            os.chmod(base, 0o711)  # the postgres user (as root) reaches its data folder inside
            try:
                seconds = fn(base)
            finally:
                shutil.rmtree(base, ignore_errors=True)
            results[name].append(seconds)
            print(f"trial {i + 1}/{trials} {name}: kill -> first write {seconds:.3f} s", flush=True)
    h, b = statistics.median(results["haproxy"]), statistics.median(results["libpq"])
    print(f"\nprimary kill -> first successful write (median of {trials}):")
    print(f"  through haproxy (the drill's stable endpoint): {h:.3f} s")
    print(f"  libpq multi-host, target_session_attrs=read-write (baseline, no proxy): {b:.3f} s")
    print(f"  ratio haproxy / libpq: {h / b:.2f}x" if b > 0 else "  ratio: n/a")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
