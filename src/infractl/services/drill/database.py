"""The DR drill's database part (docs/drills.md).

local(): on the running dev stack (native mode), whose PostgreSQL archives every WAL segment (adapters/postgres.py,
archive_settings): a fresh base backup, a write load into the drill's own database, a simulated loss (the load
stops, the archive is frozen as it is: only what was archived survives), the continuity of that archive, a
point-in-time restore into a NEW instance, the committed writes it lost counted (RPO) and the app pointed at it
until it is ready (RTO, from the loss). The source server and its data are never touched; the drill's database on
it is dropped at the end.

rds(): the same on AWS: RDS point-in-time restore of the env's instance into a new one, waited for, deleted.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infractl.adapters import aws, pg, pgarchive, postgres
from infractl.adapters import localservices as ls
from infractl.errors import CloudError, ExternalToolError, UsageError
from infractl.models.drill import Measure, PartResult
from infractl.models.environment import Recovery
from infractl.services.dev import statefile
from infractl.services.dev.contract import HOST, env_contract, process_env
from infractl.services.drill.steps import Progress, Steps

DRILL_DB = "infractl_drill"
APP_DB = "controlplane"
FOLDER = "database"  # the drill's folder under its work folder (reachable by the server user)
BACKUP_TIMEOUT_S = 600.0
RECOVERY_TIMEOUT_S = 600.0
APP_TIMEOUT_S = 90.0
ARCHIVE_WAIT_S = 60.0
SWITCHES = 3  # WAL segment switches during the load: the restore replays several archived segments
EMULATOR_NOTE = "timings on the emulator mean nothing: moto restores instantly and holds no data"


@dataclass(frozen=True)
class DevTarget:
    """The running dev stack, from its state file."""

    directory: Path  # <work>/dev
    ports: dict[str, int]
    root_token: str = field(repr=False)
    postgres: dict[str, str]  # the PostgreSQL service's extra: admin_url, data_dir, bindir, run_as

    @property
    def server(self) -> pg.PgServer:
        return pg.PgServer(HOST, self.ports["postgres"], postgres.ADMIN_USER, label="the dev stack's PostgreSQL")

    @property
    def archive(self) -> Path:
        return (self.directory / postgres.ARCHIVE_DIR).resolve()


def dev_target(work_dir: Path) -> DevTarget:
    """The dev stack of work_dir (INFRACTL_WORK_DIR); a UsageError when it is not running in native mode."""
    directory = statefile.dev_dir(work_dir)
    state = statefile.load_state(directory)
    entry = state["services"].get("postgres")
    if state.get("mode") == "docker":
        raise UsageError(
            "the DR drill needs the dev stack in native mode (its PostgreSQL and WAL archive on this machine)",
            hint="infractl dev down && infractl dev up --no-docker",
        )
    if entry is None or not ls.is_healthy(ls.Running.from_dict(entry)):
        raise UsageError("the dev stack is not running", hint="infractl dev up")
    return DevTarget(directory, dict(state["ports"]), str(state.get("root_token") or ""), dict(entry["extra"]))


# --- the write load ------------------------------------------------------------------------------------------------


class _Load:
    """One connection committing one row a transaction, as fast as it can; remembers when each commit returned."""

    def __init__(self, server: pg.PgServer) -> None:
        self.server = server
        self.stop = threading.Event()
        self.committed: list[tuple[int, float]] = []  # (id, wall-clock time the commit returned)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="drill-load", daemon=True)

    def _run(self) -> None:
        try:
            with pg.connect(self.server, DRILL_DB, application_name="infractl-drill-load") as conn:
                n = 0
                while not self.stop.is_set():
                    n += 1
                    conn.execute("INSERT INTO drill_writes (id, committed_at) VALUES (%s, clock_timestamp())", (n,))
                    self.committed.append((n, time.time()))
        except BaseException as exc:  # reported by the load step
            self.error = exc


def _prepare_drill_db(server: pg.PgServer) -> None:
    with pg.connect(server, "postgres") as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DRILL_DB,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {DRILL_DB}")
    with pg.connect(server, DRILL_DB) as conn:
        conn.execute("DROP TABLE IF EXISTS drill_writes")
        conn.execute("CREATE TABLE drill_writes (id bigint PRIMARY KEY, committed_at timestamptz NOT NULL)")


def _drop_drill_db(server: pg.PgServer) -> None:
    with contextlib.suppress(CloudError), pg.connect(server, "postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DRILL_DB} WITH (FORCE)")


def _app_schema(server: pg.PgServer) -> tuple[str | None, int]:
    """The app database's migration version and its number of tables (None, 0 when it is not there)."""
    try:
        with pg.connect(server, APP_DB) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables"
                " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()[0]
            version = None
            with contextlib.suppress(Exception):
                version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            return version, int(tables)
    except CloudError:
        return None, 0


# --- the local drill -------------------------------------------------------------------------------------------------


def local(
    dev: DevTarget | Path,
    *,
    work: Path,
    targets: Recovery,
    progress: Progress,
    load_seconds: float = 5.0,
    keep: bool = False,
) -> PartResult:
    """The database part on the dev stack; see the module docstring. dev: the stack, or the work folder
    (INFRACTL_WORK_DIR) it runs in (a UsageError when it does not run); work: the drill's work folder."""
    if not isinstance(dev, DevTarget):
        dev = dev_target(Path(dev))
    steps = Steps(prefix="database", progress=progress)
    result = PartResult(part="database")
    as_root = os.geteuid() == 0
    run_as = dev.postgres.get("run_as", "")
    bindir = Path(dev.postgres.get("bindir") or postgres.find_bindir())
    source = dev.server
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    postgres.remove_server_dir(work, FOLDER)  # an earlier run's leftovers
    folder = postgres.server_dir(work, FOLDER, as_root)
    restored: ls.Running | None = None
    api: ls.Running | None = None
    load = _Load(source)
    try:
        with steps.part():
            with steps.step("archiving") as t:
                with pg.connect(source, "postgres") as conn:
                    _check_archiving(pgarchive.archiver_status(conn), dev.archive)
                    # a segment closed now and archived: the archiver works now, not only in the past
                    status = pgarchive.wait_archived(conn, pgarchive.switch_wal(conn), ARCHIVE_WAIT_S)
                t.facts = {k: status[k] for k in ("archived_count", "last_archived_wal", "failed_count")}
                t.facts["archive"] = str(dev.archive)
                if postgres.ensure_replication_hba(Path(dev.postgres["data_dir"]), run_as):
                    postgres.ctl_reload(str(bindir), dev.postgres["data_dir"], run_as)
                    t.facts["hba"] = "replication line added"
                n = status["archived_count"]
                t.detail = f"archive_mode on, {n} segment{'' if n == 1 else 's'} archived to {dev.archive}"

            with steps.step("base-backup") as t:
                backup = pgarchive.base_backup(
                    bindir, HOST, source.port, folder / "base", run_as=run_as, timeout=BACKUP_TIMEOUT_S
                )
                t.facts = {"bytes": backup.bytes, "seconds": round(backup.seconds, 3), "start": backup.start_segment}
                t.detail = f"{backup.bytes / 1e6:.1f} MB from segment {backup.start_segment}"

            with steps.step("load") as t:
                _prepare_drill_db(source)
                app_before = _app_schema(source)
                load.thread.start()
                switched = []
                began = time.monotonic()
                with pg.connect(source, "postgres") as conn:
                    for i in range(1, SWITCHES + 1):
                        _sleep_until(began + load_seconds * i / (SWITCHES + 1), load)
                        switched.append(pgarchive.switch_wal(conn))
                _sleep_until(began + load_seconds, load)
                if load.error is not None:
                    raise ExternalToolError(f"the write load failed: {load.error}")
                t.facts = {"seconds": load_seconds, "switched": switched, "committed_so_far": len(load.committed)}
                t.detail = f"{len(load.committed):,} single-row transactions, {len(switched)} WAL switches"

            with steps.step("loss") as t:
                load.stop.set()
                t_loss = time.time()
                loss_clock = time.monotonic()
                frozen = pgarchive.freeze(dev.archive, folder / "archive")
                load.thread.join(timeout=30)
                before = [(i, ts) for i, ts in load.committed if ts < t_loss]
                t.facts = {"t_loss": datetime.fromtimestamp(t_loss, UTC).isoformat(), "committed": len(before)}
                t.facts["archived_files"] = len(frozen)
                t.detail = f"{len(before):,} writes committed before the loss; {len(frozen)} archive files survive"

            with steps.step("archive-check") as t:
                segments = pgarchive.archive_segments(folder / "archive")
                missing = pgarchive.continuity(backup.start_segment, segments)
                if missing:
                    steps.fail(
                        "archive-check",
                        f"WAL segment {missing[0]} is missing from the archive {dev.archive}: the restore would stop"
                        " before it and lose every write after it; take a new base backup (infractl drill dr runs"
                        " one) and check archive_command in the PostgreSQL log",
                        missing=missing,
                    )
                replay = [x for x in segments if backup.start_segment <= x and x[:8] == backup.start_segment[:8]]
                t.facts = {"segments": len(replay), "from": backup.start_segment, "to": replay[-1] if replay else None}
                t.detail = f"{len(replay)} segment{'' if len(replay) == 1 else 's'} to replay, continuous from" + (
                    f" {backup.start_segment} to {replay[-1]}" if replay else f" {backup.start_segment}"
                )

            with steps.step("restore") as t:
                restored = restore_instance(backup.path, folder / "data", folder / "archive", work, run_as=run_as)
                target = pg.PgServer(HOST, restored.port, postgres.ADMIN_USER, label="the restored PostgreSQL")
                t.facts = {"port": restored.port, "data_dir": str(folder / "data")}
                t.detail = f"a new instance on {HOST}:{restored.port}, recovered and promoted"

            with steps.step("verify") as t:
                lost, window, problem = _verify(target, before, t_loss)
                app_after = _app_schema(target)
                t.facts = {"committed": len(before), "lost": len(lost), "window_seconds": window}
                t.facts |= {"app_schema_source": list(app_before), "app_schema_restored": list(app_after)}
                if problem:
                    raise ExternalToolError(problem)
                if app_after != app_before:
                    raise ExternalToolError(
                        f"the restored {APP_DB} database differs from the source: migration/tables {app_after}"
                        f" instead of {app_before}"
                    )
                t.detail = f"{len(lost):,} of {len(before):,} committed writes lost ({window:.1f} s of writes)"
            result.measures.append(
                Measure(
                    name="rpo",
                    scope="database",
                    target_minutes=targets.rpo_minutes,
                    measured_seconds=window,
                    detail=f"{len(lost):,} of {len(before):,} committed writes lost (the last {window:.1f} s before"
                    " the loss: WAL not yet archived)",
                )
            )

            with steps.step("app") as t:
                api = _start_api(dev, restored.port, work)
                ls.wait_healthy(api, APP_TIMEOUT_S)
                rto = time.monotonic() - loss_clock
                t.facts = {"url": api.extra["health_url"], "rto_seconds": round(rto, 3)}
                t.detail = f"the api on the restored database is ready ({api.extra['health_url']})"
            result.measures.append(
                Measure(
                    name="rto",
                    scope="database",
                    target_minutes=targets.rto_minutes,
                    measured_seconds=round(rto, 3),
                    detail=f"{rto:.1f} s from the loss to the api ready on the restored instance",
                )
            )
    finally:
        load.stop.set()
        if load.thread.is_alive():
            load.thread.join(timeout=30)
        for r in (api, restored):
            if r is not None:
                ls.stop(r)
        _drop_drill_db(source)
        if not keep:
            postgres.remove_server_dir(work, FOLDER)
    result.steps = steps.steps
    if keep:
        result.notes.append(f"the drill's base backup, frozen archive and restored data are kept in {folder}")
    return result


def restore_instance(
    backup: Path, data: Path, archive: Path, work: Path, *, run_as: str, timeout: float = RECOVERY_TIMEOUT_S
) -> ls.Running:
    """A new PostgreSQL (service postgres-restored, its log in work) from a plain base backup copied to data,
    recovered from archive to its end and promoted; returns once it accepts writes (stopped again on failure)."""
    settings = pgarchive.prepare_restore(backup, data, archive, run_as=run_as)
    restored = ls.start_postgres(
        work, ls.free_port(), name="postgres-restored", data=data, settings=settings, wait=None
    )
    target = pg.PgServer(HOST, restored.port, postgres.ADMIN_USER, label="the restored PostgreSQL")
    try:
        pgarchive.wait_promoted(target, timeout, alive=lambda: bool(ls.survivors(restored)), log=restored.log)
    except BaseException:
        ls.stop(restored)
        raise
    return restored


def _check_archiving(status: dict[str, Any], archive: Path) -> None:
    if status["archive_mode"] != "on":
        raise ExternalToolError(
            "WAL archiving is off on the dev stack's PostgreSQL: nothing to restore from",
            hint="restart the dev stack so it starts archiving: infractl dev down && infractl dev up",
        )
    if not archive.is_dir():
        raise ExternalToolError(
            f"the WAL archive {archive} does not exist", hint="infractl dev down && infractl dev up"
        )
    failed, ok = status["last_failed_time"], status["last_archived_time"]
    if failed is not None and (ok is None or failed > ok):
        raise ExternalToolError(
            f"archiving WAL segment {status['last_failed_wal']} failed and nothing was archived since",
            hint="see archive_command's error in the PostgreSQL log (infractl dev logs postgres)",
        )


def _sleep_until(deadline: float, load: _Load) -> None:
    """Wait for the load to run until deadline (monotonic); stops early when the load failed."""
    while time.monotonic() < deadline and load.error is None:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _verify(target: pg.PgServer, before: list[tuple[int, float]], t_loss: float) -> tuple[list[int], float, str]:
    """(ids committed before the loss but absent from the restore, the data-loss window in seconds, a problem).

    The window: T_loss minus the commit time of the newest write the restore holds (0 when nothing was lost).
    A problem: the restore is not a point in time (a write missing while a later one is present)."""
    present: dict[int, datetime] = {}
    with pg.connect(target, "postgres") as conn:
        has_db = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DRILL_DB,)).fetchone()
    if has_db:
        with pg.connect(target, DRILL_DB) as conn:
            present = dict(conn.execute("SELECT id, committed_at FROM drill_writes").fetchall())
    lost = [i for i, _ in before if i not in present]
    if not lost:
        return [], 0.0, ""
    problem = ""
    newest_present = max((i for i, _ in before if i in present), default=None)
    if newest_present is not None and newest_present > lost[0]:
        problem = f"write {lost[0]} is missing but the later write {newest_present} is present: not a point in time"
    newest = before[0][1] if newest_present is None else present[newest_present].timestamp()
    window = t_loss - newest
    return lost, round(max(window, 0.0), 3), problem


def _start_api(dev: DevTarget, db_port: int, work: Path) -> ls.Running:
    """The app's api on the restored database (every other dependency: the dev stack's), no metrics server."""
    ports = {**dev.ports, "postgres": db_port, "api": ls.free_port(), "api_metrics": 0}
    env = process_env(env_contract(ports, dev.root_token, service="api"))
    url = f"http://{HOST}:{ports['api']}/readyz"
    argv = [sys.executable, "-m", "controlplane.api"]
    return ls.start_process("api-restored", argv, env, work, ports["api"], url, wait=None, cwd=work)


# --- RDS -------------------------------------------------------------------------------------------------------------


def rds(
    client: Any,
    *,
    instance_id: str,
    progress: Progress,
    emulator: bool,
    targets: Recovery | None = None,
    timeout: float = 3600.0,
) -> PartResult:
    """RDS point-in-time restore of instance_id (latest restorable time) into a new instance in the same subnet
    group and security groups, waited for until available, then deleted (no final snapshot) and waited for.
    client: a boto3 RDS client (or an AwsTarget to make one)."""
    if isinstance(client, aws.AwsTarget):
        client = client.client("rds")
    steps = Steps(prefix="database-rds", progress=progress)
    result = PartResult(part="database-rds")
    if emulator:
        result.notes.append(EMULATOR_NOTE)
    poll = 0.2 if emulator else 15.0
    copy = f"{instance_id[:40]}-drill-{datetime.now(UTC):%Y%m%d%H%M%S}"
    created = False
    try:
        with steps.part():
            with steps.step("restorable") as t:
                src = _describe(client, instance_id)
                if src is None:
                    raise CloudError(f"RDS instance {instance_id} not found", hint="is the env's data stack applied?")
                latest = src.get("LatestRestorableTime")
                t.facts = {"backup_retention_days": src.get("BackupRetentionPeriod", 0), "latest": str(latest)}
                if not src.get("BackupRetentionPeriod") or latest is None:
                    raise CloudError(
                        f"{instance_id} has no automated backups (backup retention 0): no point-in-time restore",
                        hint="set backup_retention_period > 0 in the env's database settings",
                    )
                lag = (datetime.now(UTC) - latest).total_seconds()
                t.detail = f"latest restorable time {latest} ({lag:.0f} s ago)"
            with steps.step("restore") as t:
                began = time.monotonic()
                aws.call(
                    "rds:RestoreDBInstanceToPointInTime",
                    client.restore_db_instance_to_point_in_time,
                    **_restore_args(src, copy),
                )
                created = True
                t.facts = {"instance": copy}
                t.detail = f"{instance_id} -> {copy} at the latest restorable time"
            with steps.step("available") as t:
                copy_db = _wait_status(client, copy, "available", timeout, poll)
                rto = time.monotonic() - began
                endpoint = copy_db.get("Endpoint") or {}
                t.facts = {"endpoint": f"{endpoint.get('Address')}:{endpoint.get('Port')}", "seconds": round(rto, 1)}
                t.facts["dbi_resource_id"] = copy_db.get("DbiResourceId")
                if copy_db.get("DbiResourceId") == src.get("DbiResourceId"):
                    raise CloudError(f"{copy} has its source's DbiResourceId: not a new instance")
                t.detail = f"available at {t.facts['endpoint']}"
            if targets is not None and not emulator:
                result.measures.append(
                    Measure(
                        name="rpo",
                        scope="database",
                        target_minutes=targets.rpo_minutes,
                        measured_seconds=round(lag, 1),
                        detail="the age of the latest restorable time: writes after it are not restorable",
                    )
                )
                result.measures.append(
                    Measure(
                        name="rto",
                        scope="database",
                        target_minutes=targets.rto_minutes,
                        measured_seconds=round(rto, 1),
                        detail="from the restore request to the new instance available",
                    )
                )
    finally:
        if created:
            with steps.part(), steps.step("cleanup") as t:
                aws.call(
                    "rds:DeleteDBInstance",
                    client.delete_db_instance,
                    DBInstanceIdentifier=copy,
                    SkipFinalSnapshot=True,
                    DeleteAutomatedBackups=True,
                )
                _wait_status(client, copy, None, timeout, poll)
                t.detail = f"{copy} deleted"
    result.steps = steps.steps
    return result


def _restore_args(src: dict[str, Any], copy: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "SourceDBInstanceIdentifier": src["DBInstanceIdentifier"],
        "TargetDBInstanceIdentifier": copy,
        "UseLatestRestorableTime": True,
        "DBInstanceClass": src["DBInstanceClass"],
        "MultiAZ": False,  # a drill copy: one AZ is enough to prove the restore
        "PubliclyAccessible": False,
        "DeletionProtection": False,
        "CopyTagsToSnapshot": False,
        "Tags": [t for t in src.get("TagList", []) if not t["Key"].startswith("aws:")]
        + [{"Key": "infractl:drill", "Value": copy}],
    }
    group = (src.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
    if group:
        args["DBSubnetGroupName"] = group
    security = [g["VpcSecurityGroupId"] for g in src.get("VpcSecurityGroups", [])]
    if security:
        args["VpcSecurityGroupIds"] = security
    return args


def _describe(client: Any, instance: str) -> dict[str, Any] | None:
    try:
        return client.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]
    except client.exceptions.DBInstanceNotFoundFault:
        return None
    except Exception as exc:  # any other SDK error: a CloudError naming the call
        raise CloudError(f"rds:DescribeDBInstances {instance}: {aws.error_code(exc) or exc}") from None


def _wait_status(client: Any, instance: str, status: str | None, timeout: float, poll: float) -> dict[str, Any]:
    """Poll until instance has status (None: until it is gone), within timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        db = _describe(client, instance)
        if (db is None and status is None) or (db is not None and db.get("DBInstanceStatus") == status):
            return db or {}
        if time.monotonic() > deadline:
            now = db.get("DBInstanceStatus") if db else "gone"
            raise CloudError(f"{instance} is still {now} after {timeout:.0f} s (waiting for {status or 'deleted'})")
        time.sleep(poll)
