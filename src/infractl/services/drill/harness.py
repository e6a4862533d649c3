"""The fault drill's access to the running native dev stack (services/dev): its recorded services and ports, killing
one (SIGKILL of its process group: a crash, not a stop), restarting it with the SAME ports and environment (recorded
in the dev state file, so `infractl dev status` and `dev down` keep working), restarting the api or the worker with
a few contract variables overridden (the database or Temporal behind a proxy), and the cleanup that puts the stack
back as it was whatever happened.

The drill holds the dev folder's lock for its whole run (no `dev up`/`down` meanwhile). Processes the drill starts
besides the stack (haproxy, the replica) are recorded in the state file under `drill-*` names while they run: if the
drill itself dies, `infractl dev down` stops them, and the next drill sweeps them first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infractl.adapters import localservices as ls
from infractl.adapters import pg, pgarchive, process
from infractl.adapters.pg import PgServer
from infractl.errors import ExternalToolError, InfractlError, UsageError
from infractl.models.drill import WorkloadCheck
from infractl.services.dev import native
from infractl.services.dev.contract import APP, EVIDENCE_BUCKET, INFRA, S3_REGION
from infractl.services.dev.statefile import UP_HINT, RecordedServices, dev_dir, load_state, locked
from infractl.services.drill.steps import Progress

DRILL_PREFIX = "drill-"  # state-file names of what the drill starts besides the stack
MARK = "drill_override"  # in a Running's extra: the app runs with the drill's overrides (not its normal contract)
KILL_WAIT_S = 10.0


@dataclass
class Harness(RecordedServices):
    work_dir: Path
    root: Path
    directory: Path
    state: dict[str, Any]
    progress: Progress
    deadline_s: float
    workflows: int = 20
    partition_seconds: float = 5.0
    db_port: int = 0  # where the checker and the scenarios reach PostgreSQL (a failover moves it)
    checks: dict[str, WorkloadCheck] = field(default_factory=dict)  # per scenario, the workload's check
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # per scenario, numbers beside the steps
    notes: dict[str, list[str]] = field(default_factory=dict)
    scenario_deadline: float = 0.0  # monotonic: the running scenario's end
    _cleanups: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    _s3: Any = None

    # --- the stack -------------------------------------------------------------------------------------------

    @property
    def root_token(self) -> str:
        return str(self.state["root_token"])

    @property
    def drill_dir(self) -> Path:
        path = self.directory / "drill"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def api_url(self) -> str:
        return f"http://{ls.HOST}:{self.ports['api']}"

    def admin(self, port: int | None = None) -> PgServer:
        return PgServer(ls.HOST, port or self.db_port, ls.PG_ADMIN_USER, label="the dev stack's PostgreSQL")

    def s3(self) -> Any:
        """The dev stack's S3 (the emulator accepts any key)."""
        if self._s3 is None:
            from infractl.adapters import aws, emulator

            target = aws.AwsTarget(
                region=S3_REGION,
                endpoint_url=f"http://{ls.HOST}:{self.ports['s3']}",
                access_key=emulator.FAKE_ACCESS_KEY,
                secret_key=emulator.FAKE_SECRET_KEY,
            )
            self._s3 = target.client("s3")
        return self._s3

    bucket = EVIDENCE_BUCKET

    # --- faults ----------------------------------------------------------------------------------------------

    def kill(self, name: str) -> float:
        """SIGKILL the service's whole process group (no shutdown of any kind); wait until it is gone. Returns the
        monotonic time of the kill."""
        r = self.service(name)
        if not ls.survivors(r):
            raise ExternalToolError(f"{name} (pid {r.pid}) is not running: nothing to kill")
        t = time.monotonic()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(r.extra.get("pgid", r.pid)), signal.SIGKILL)
        gone(r)
        ls.stop(r)  # reaps it and removes its pid file (no `pg_ctl stop`: the process is gone)
        self.progress(f"{name}: killed (SIGKILL of pid {r.pid} and its group)")
        return t

    def restart_temporal(self) -> ls.Running:
        old = self.service("temporal")
        extra = old.extra
        r = ls.start_temporal(
            self.directory,
            old.port,
            int(extra.get("ui_port") or self.ports["temporal_ui"]),
            http_port=int(extra["http_port"]) if extra.get("http_port") else None,
            wait=native.START_TIMEOUT_S,
        )
        self.record(r)
        return r

    def start_postgres(self, port: int) -> ls.Running:
        """The stack's PostgreSQL from its data folder on port, started as `dev up` starts it (native.py)."""
        r = native.start_postgres(self.directory, port, wait=native.START_TIMEOUT_S)
        self.record(r)
        return r

    def start_app(
        self, name: str, overrides: Mapping[str, int] | None = None, *, stop_first: bool = True
    ) -> ls.Running:
        """(Re)start the api or the worker with the dev stack's contract; overrides replace ports the contract is
        made of (`postgres`: CONTROLPLANE_DB_PORT, `temporal`: CONTROLPLANE_TEMPORAL_ADDRESS's port)."""
        if name not in APP:
            raise ValueError(name)
        if stop_first and name in self.state["services"]:
            ls.stop(self.service(name))
        ports = {**self.ports, **dict(overrides or {})}
        r = native.start_app(name, self.directory, self.root, ports, self.root_token)
        if overrides:
            r = ls.Running(r.name, r.pid, r.host, r.port, r.log, {**r.extra, MARK: _describe(overrides)})
        self.record(r)
        if name == "api":
            ls.wait_healthy(r, native.READY_TIMEOUT_S)
        return r

    # --- cleanup ---------------------------------------------------------------------------------------------

    def on_cleanup(self, what: str, fn: Callable[[], None]) -> None:
        """Run fn at the end of the scenario (last registered first), whatever happened."""
        self._cleanups.append((what, fn))

    def cleanup(self) -> list[str]:
        """Run the registered cleanups, then restore the stack (restore); the problems, one line each."""
        problems: list[str] = []
        while self._cleanups:
            what, fn = self._cleanups.pop()
            try:
                fn()
            except (InfractlError, OSError) as exc:
                problems.append(f"{what}: {exc}")
        try:
            self.restore()
        except (InfractlError, OSError) as exc:
            problems.append(f"restore: {exc}")
        return problems

    def restore(self) -> None:
        """The stack as `dev up` left it: every infrastructure service healthy on its port (restarted when it is
        not), the api and the worker with their normal contract, no drill process left."""
        self.db_port = self.ports["postgres"]
        self.sweep()
        for name in INFRA:
            r = self.service(name)
            if ls.is_healthy(r):
                continue
            self.progress(f"restore: {name} is not healthy, restarting it on port {r.port}")
            ls.stop(r)
            if name == "temporal":
                self.restart_temporal()
            elif name == "postgres":
                self.start_postgres(r.port)
            else:
                raise ExternalToolError(f"restore: {name} is not healthy", hint="infractl dev up restarts it")
        for name in APP:
            r = self.service(name)
            if MARK in r.extra or not ls.is_healthy(r):
                self.progress(f"restore: {name} back to its normal contract")
                self.start_app(name)

    def sweep(self) -> None:
        """Stop what an earlier drill left behind (recorded `drill-*` services)."""
        for name in [n for n in self.state["services"] if n.startswith(DRILL_PREFIX)]:
            r = ls.Running.from_dict(self.state["services"][name])
            left = ls.stop(r)
            if left:
                raise ExternalToolError(f"{name}: pids {left} did not stop")
            self.forget(name)

    def begin(self) -> None:
        """A scenario starts: its time budget (deadline_s) starts now."""
        self.scenario_deadline = time.monotonic() + self.deadline_s

    def remaining(self, floor: float = 1.0) -> float:
        """Seconds left of the running scenario's budget (at least floor)."""
        return max(floor, self.scenario_deadline - time.monotonic())

    def wait(self, what: str, predicate: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
        """Poll predicate until it returns something true; ExternalToolError naming `what` after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            if time.monotonic() >= deadline:
                raise ExternalToolError(f"{what}: not within {timeout:.0f} s")
            time.sleep(interval)


def gone(r: ls.Running, timeout: float = KILL_WAIT_S) -> None:
    """Wait until nothing of r's process group is alive (after a SIGKILL); ExternalToolError naming the survivors."""
    deadline = time.monotonic() + timeout
    while left := ls.survivors(r):
        if time.monotonic() >= deadline:
            raise ExternalToolError(f"{r.name}: pids {left} survived SIGKILL")
        time.sleep(0.005)


def _describe(overrides: Mapping[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(overrides.items()))


@contextlib.contextmanager
def opened(work_dir: Path, root: Path, progress: Progress, deadline_s: float) -> Iterator[Harness]:
    """The running native dev stack, locked for the drill; restored on exit."""
    directory = dev_dir(work_dir)
    state = load_state(directory)
    if state.get("mode") == "docker":
        raise UsageError(
            "drill faults runs on the native dev stack only: it kills and restarts the stack's processes, puts"
            " proxies between them and builds a streaming replica of its PostgreSQL, which compose's containers"
            " do not expose",
            hint="infractl dev down && infractl dev up --no-docker",
        )
    if state.get("mode") != "native" or not state.get("services"):
        raise UsageError("the dev stack is not running", hint=UP_HINT)
    with locked(directory):
        state = load_state(directory)
        h = Harness(work_dir, root, directory, state, progress, deadline_s)
        h.db_port = h.ports["postgres"]
        h.sweep()
        for name in APP:  # an app left with a drill's overrides by an interrupted drill
            if name in state["services"] and MARK in h.service(name).extra:
                h.start_app(name)
        unhealthy = [n for n in (*INFRA, *APP) if n not in state["services"] or not ls.is_healthy(h.service(n))]
        if unhealthy:
            raise UsageError(
                f"the dev stack is not healthy: {', '.join(unhealthy)}",
                hint="infractl dev status; `infractl dev up --no-docker` restarts what is down",
            )
        yield h


# --- PostgreSQL failover primitives (the db-failover scenario and benchmarks/failover.py) ---------------------------

REPLICA = f"{DRILL_PREFIX}postgres-replica"
ENDPOINT = f"{DRILL_PREFIX}haproxy"


def _as_postgres(argv: list[str], run_as: str) -> list[str]:
    return ["runuser", "-u", run_as, "--", *argv] if run_as else argv


def base_backup(bindir: Path, primary_port: int, target: Path, run_as: str) -> float:
    """A streaming standby's copy of the primary on 127.0.0.1:primary_port in target (a new folder, owned by the
    server user): pgarchive.base_backup(standby=True). Returns its seconds."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(mode=0o700)
    if run_as:
        shutil.chown(target, run_as, run_as)
    backup = pgarchive.base_backup(bindir, ls.HOST, primary_port, target, run_as=run_as, timeout=120, standby=True)
    return round(backup.seconds, 3)


def streaming(primary: PgServer, sync: bool = False) -> bool:
    """The primary streams WAL to a standby (pg_stat_replication: state streaming; sync: and acknowledged
    synchronously)."""
    where = "state = 'streaming'" + (" AND sync_state = 'sync'" if sync else "")
    try:
        with contextlib.closing(pg.connect(primary, "postgres")) as conn:
            row = conn.execute(f"SELECT count(*) FROM pg_stat_replication WHERE {where}").fetchone()
    except InfractlError:
        return False
    return bool(row and row[0])


def synchronous(primary: PgServer, database: str, on: bool) -> None:
    """on: every commit in `database` waits until a standby has the WAL (synchronous_standby_names = '*', and
    synchronous_commit = on for that database: the dev server runs with synchronous_commit=off on its command line,
    which a database's setting overrides); off: both back to the server's defaults. Without it a failover loses the
    commits the standby had not received yet (asynchronous replication)."""
    with contextlib.closing(pg.connect(primary, "postgres")) as conn:
        if on:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            conn.execute(pg_sql("ALTER DATABASE {} SET synchronous_commit = 'on'", database))
            conn.execute("SELECT pg_reload_conf()")
        else:  # no standby first: nothing may wait for one any more
            conn.execute("ALTER SYSTEM RESET synchronous_standby_names")
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(pg_sql("ALTER DATABASE {} RESET synchronous_commit", database))


def pg_sql(template: str, name: str) -> Any:
    from psycopg import sql

    return sql.SQL(template).format(pg.ident(name))


def promote(bindir: Path, data: Path, run_as: str) -> None:
    """`pg_ctl promote -w`: the standby ends recovery and accepts writes."""
    argv = [str(bindir / "pg_ctl"), "promote", "-D", str(data), "-w", "-t", "30"]
    process.run(_as_postgres(argv, run_as), env=process.clean_env(drop_prefixes=("PG",)), timeout=60)


def try_write(server: PgServer) -> bool:
    """One write (a temporary table's insert: a standby refuses it) on a new connection; True when it committed."""
    try:
        conn = pg.connect(server, "postgres", application_name="infractl-drill-probe")
    except InfractlError:
        return False
    try:
        with contextlib.closing(conn):
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS drill_probe (at timestamptz)")
            conn.execute("INSERT INTO drill_probe VALUES (now())")
        return True
    except Exception as exc:  # psycopg's errors: read-only transaction, the connection closed under it
        if type(exc).__module__.startswith("psycopg"):
            return False
        raise


def first_write(server: PgServer, since: float, timeout: float, interval: float = 0.02) -> float:
    """Seconds from `since` (monotonic) to the first committed write on server; ExternalToolError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if try_write(server):
            return round(time.monotonic() - since, 3)
        if time.monotonic() >= deadline:
            raise ExternalToolError(f"no write accepted at {server.where('postgres')} within {timeout:.0f} s")
        time.sleep(interval)


def strip_standby(data: Path) -> None:
    """A promoted standby's leftovers: primary_conninfo in postgresql.auto.conf (harmless once promoted, removed so
    the folder reads as a primary's), standby.signal (promote removes it; a stop before promotion does not)."""
    auto = data / "postgresql.auto.conf"
    if auto.is_file():
        kept = [line for line in auto.read_text().splitlines() if not line.strip().startswith("primary_conninfo")]
        auto.write_text("\n".join(kept) + "\n")
    for leftover in ("standby.signal", "backup_manifest", "backup_label.old"):
        with contextlib.suppress(FileNotFoundError):
            (data / leftover).unlink()


def swap_data(primary: Path, replica: Path) -> None:
    """The promoted replica's folder takes the place of the primary's (same parent: a rename); the old one goes."""
    old = primary.parent / f"{DRILL_PREFIX}old-primary"
    if old.exists():
        shutil.rmtree(old)
    os.rename(primary, old)
    os.rename(replica, primary)
    shutil.rmtree(old, ignore_errors=True)
