"""`infractl db migrate` and `db rollback` over the shared target and every tenant target (docs/migrations.md#fan-out).

migrate: the shared target first, alone (the runtime's own tables; the contract guard reads its heartbeats); then
every tier B schema and tier C database with bounded parallelism. When the shared target fails, no tenant is touched:
the shared schema is never behind a tenant. rollback is the mirror image: the tenants first, then the shared target,
only when every tenant is reverted.

Each worker thread keeps one SQLAlchemy connection and reuses it for the next target in the same database (every
tier B schema is in the shared database); a tier C database gets its own connection for its one target. A target's
failure is its result: the others go on; the run ends with MigrationIncomplete naming the failed tenants, and a
re-run skips what is at its goal (a few round trips per target) and continues the rest from where each stopped.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from infractl.adapters import migrations, pg
from infractl.errors import MigrationIncomplete, RefusedError, UsageError
from infractl.models.db import SHARED, Target, TargetResult
from infractl.models.migrations import FanOutResult, Planned
from infractl.services.context import Context
from infractl.services.db import catalog, migrate
from infractl.services.db.connect import DbEndpoint, resolve

Progress = Callable[[str], None]
Confirm = Callable[[str], bool]
MAX_PARALLEL = 8


def default_parallel() -> int:
    """min(8, 2 per CPU): a target mostly waits on the server (round trips, commits), so more workers than CPUs
    help; past 2 per CPU they only contend (benchmarks/migrations.py: on 2 CPUs with the server on the same machine,
    200 schemas took 14.5 s with 1 worker, 6.3 s with 4, 8.1 s with 8)."""
    return min(MAX_PARALLEL, 2 * (os.cpu_count() or 1))


class Connections:
    """One connection per worker thread, reused while the next target is in the same database; closed at the end."""

    def __init__(self, endpoint: DbEndpoint) -> None:
        self.endpoint = endpoint
        self.local = threading.local()
        self.lock = threading.Lock()
        self.stacks: list[contextlib.ExitStack] = []

    def _drop(self) -> None:
        held = getattr(self.local, "held", None)
        if held is not None:
            held[1].close()
            self.local.held = None

    def get(self, target: Target) -> Any:
        server = self.endpoint.server_for(target.instance)
        key = (server.host, server.port, target.database)
        held = getattr(self.local, "held", None)
        if held is not None and held[0] == key:
            return held[2]
        self._drop()
        stack = contextlib.ExitStack()
        engine = stack.enter_context(pg.engine(server, target.database, application_name=migrate.APPLICATION))
        try:
            conn = stack.enter_context(engine.connect())
        except BaseException:
            stack.close()
            raise
        with self.lock:
            self.stacks.append(stack)
        self.local.held = (key, stack, conn)
        return conn

    def discard(self) -> None:
        """Forget this thread's connection (after a failure its session may be unusable)."""
        self._drop()

    def close(self) -> None:
        with self.lock:
            for stack in self.stacks:
                with contextlib.suppress(Exception):
                    stack.close()
            self.stacks.clear()


def run_one(
    conns: Connections,
    target: Target,
    goal_for: migrate.Goal,
    *,
    direction: str = "up",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> tuple[TargetResult, list[str]]:
    started = time.monotonic()
    server = conns.endpoint.server_for(target.instance)
    try:
        conn = conns.get(target)
    except Exception as exc:
        return migrate.unreachable(target, server.label, server.where(target.database), exc, started), []
    result, todo = migrate.run_on(
        conn,
        target,
        role=migrate.target_role(conns.endpoint, target),
        goal_for=goal_for,
        direction=direction,
        dry_run=dry_run,
        on_wait=progress,
    )
    if result.status == "failed" or target.kind == "database":
        conns.discard()
    return result, todo


def read_one(conns: Connections, target: Target) -> str | Exception | None:
    """A target's current revision, or the exception that stopped reading it."""
    try:
        conn = conns.get(target)
        return migrate.read_current(conn, target, role=migrate.target_role(conns.endpoint, target))
    except Exception as exc:
        conns.discard()
        return exc


def read_all(conns: Connections, targets: list[Target], workers: int) -> dict[str, str | Exception | None]:
    """Every target's current revision (read in parallel; the readers' connections are closed after)."""
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets))), thread_name_prefix="db-read") as pool:
        found = list(pool.map(lambda t: read_one(conns, t), targets))
    conns.close()
    return dict(zip([t.name for t in targets], found, strict=True))


@contextlib.contextmanager
def session(endpoint: DbEndpoint) -> Iterator[tuple[Any, Connections]]:
    with pg.connect(endpoint.server, endpoint.database, application_name=migrate.APPLICATION) as cat:
        catalog.ensure(cat)
        conns = Connections(endpoint)
        try:
            yield cat, conns
        finally:
            conns.close()


def select_targets(cat: Any, endpoint: DbEndpoint, tenant: str | None) -> list[Target]:
    """The shared target and the tenants' targets (only `tenant`'s when given; UsageError for an unknown one)."""
    if tenant is not None and catalog.get(cat, tenant) is None:
        known = [r.name for r in catalog.tenants(cat)]
        raise UsageError(
            f"no tenant named {tenant!r} in {endpoint.env}'s catalog",
            hint=f"tenants: {', '.join(known)}" if known else f"create it: infractl tenant create {endpoint.env} NAME",
        )
    return catalog.targets(cat, endpoint.database, tenant=tenant)


class Run:
    """The results of one fan-out as they arrive (the main thread saves each in the catalog and reports)."""

    def __init__(self, cat: Any, total: int, progress: Progress, *, save: bool, verb: str = "applied") -> None:
        self.cat, self.total, self.progress, self.save, self.verb = cat, total, progress, save, verb
        self.results: list[TargetResult] = []
        self.planned: list[Planned] = []
        self.step = max(1, total // 10)
        self.last_note = time.monotonic()

    def add(self, target: Target, result: TargetResult, todo: list[str]) -> None:
        self.results.append(result)
        if result.status == "pending":
            self.planned.append(
                Planned(
                    target=target.name,
                    kind=target.kind,
                    tenant=target.tenant,
                    current=result.revision_before,
                    revisions=todo,
                )
            )
        if self.save:
            catalog.save_result(self.cat, result)
        done = len(self.results)
        if result.status == "failed":
            self.progress(f"{result.target}: failed: {result.error}")
        elif self.total <= 20 or result.kind == "shared":
            status = self.verb if result.status == "applied" else result.status
            moved = f" {', '.join(result.applied)}" if result.applied else ""
            self.progress(f"{result.target}: {status}{moved} (at {result.revision or 'base'})")
        if self.total > 20 and (done % self.step == 0 or done == self.total or time.monotonic() - self.last_note > 10):
            self.last_note = time.monotonic()
            failed = sum(1 for r in self.results if r.status == "failed")
            self.progress(f"{done}/{self.total} targets done ({failed} failed)")

    def not_reached(self, targets: list[Target], why: str) -> None:
        for t in targets:
            self.results.append(
                TargetResult(target=t.name, kind=t.kind, tenant=t.tenant, status="pending", error=f"not run: {why}")
            )


def run_parallel(
    conns: Connections,
    run: Run,
    targets: list[Target],
    goal_for: Callable[[Target], migrate.Goal],
    *,
    direction: str,
    dry_run: bool,
    workers: int,
) -> None:
    """Every target through run_one, `workers` at a time; on an interrupt the targets not started are not started
    (those under way finish their current revision: a transaction is never cut)."""
    if not targets:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets))), thread_name_prefix="migrate")
    try:
        futures = {
            pool.submit(run_one, conns, t, goal_for(t), direction=direction, dry_run=dry_run, progress=run.progress): t
            for t in targets
        }
        for future in as_completed(futures):
            result, todo = future.result()
            run.add(futures[future], result, todo)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    order = {t.name: i for i, t in enumerate(targets)}
    run.results.sort(key=lambda r: (r.kind != "shared", order.get(r.target, -1)))


def _check_goal(revision: str | None, phase: str) -> str | None:
    """--to REV: a known revision; an expand run may not pass a contract revision on the way."""
    if revision is None:
        return None
    goal = migrate.check_revision(revision)
    if phase == "expand":
        chain = migrations.revisions()
        upto = [r for r in chain[: [r.id for r in chain].index(goal) + 1] if r.phase == "contract"]
        if upto:
            names = ", ".join(r.id for r in upto)
            raise UsageError(
                f"--to {revision} passes the contract revision(s) {names} (if a target is below them)",
                hint="contract is a separate step: add --phase contract (refused while an old version still runs)",
            )
    return goal


def _refuse_blockers(conns: Connections, shared: Target, targets: list[Target], goal: str, workers: int) -> None:
    """RefusedError naming every live process a contract revision on the way of any target would break. The way
    starts at the target furthest behind (a tenant may lag the shared schema after a failed run)."""
    ids = [r.id for r in migrations.revisions()]
    currents = [c for c in read_all(conns, targets, workers).values() if not isinstance(c, Exception)]
    known = [c for c in currents if c is None or c in ids]
    since = min(known, key=lambda c: -1 if c is None else ids.index(c)) if known else None
    conn = conns.get(shared)
    found = migrations.blockers(conn, goal, since=since)
    conn.commit()
    if not found:
        return
    details = [
        f"{b.role} {b.app_version} on {b.host} (pid {b.pid}, process {b.process_id}): ships schema"
        f" {b.schema_min}..{b.schema_head}, last seen {b.seen_at}; {b.needs}"
        for b in found
    ]
    raise RefusedError(
        f"contract refused: {len(found)} live process(es) still need the shape it removes; nothing was applied",
        details=details,
        hint="stop or upgrade them (deploy the release that ships the contract's code), then re-run;"
        " a process that died without a graceful stop expires after its heartbeat's ttl",
    )


def migrate_env(
    endpoint: DbEndpoint,
    *,
    tenant: str | None = None,
    phase: str = "expand",
    to: str | None = None,
    parallel: int | None = None,
    dry_run: bool = False,
    progress: Progress = lambda _m: None,
) -> FanOutResult:
    """Bring the shared target and every tenant target to `to`, or each to its phase target (expand: up to the
    first pending contract; contract: head). Raises MigrationIncomplete when a target failed (the others are done),
    RefusedError when a contract would break a live process (nothing applied)."""
    started = time.monotonic()
    workers = parallel or default_parallel()
    goal = _check_goal(to, phase)
    with session(endpoint) as (cat, conns):
        targets = select_targets(cat, endpoint, tenant)
        shared = next((t for t in targets if t.kind == "shared"), None)
        rest = [t for t in targets if t.kind != "shared"]

        def goal_for(_target: Target) -> migrate.Goal:
            return (lambda _current: goal) if goal else (lambda current: migrations.phase_target(current, phase))

        if phase == "contract":
            check = shared or Target(name=SHARED, kind="shared", database=endpoint.database)
            _refuse_blockers(conns, check, targets, goal or migrations.head(), workers)
        run = Run(cat, len(targets), progress, save=not dry_run)
        progress(
            f"{'dry run: ' if dry_run else ''}migrating {len(targets)} target(s) of {endpoint.env}"
            f" to {goal or phase + ' phase'} ({workers} at a time after the shared one)"
        )
        if shared is not None:
            result, todo = run_one(conns, shared, goal_for(shared), dry_run=dry_run, progress=progress)
            run.add(shared, result, todo)
            if result.status == "failed":
                run.not_reached(rest, "the shared target failed first")
                rest = []
        run_parallel(conns, run, rest, goal_for, direction="up", dry_run=dry_run, workers=workers)
    return finish(endpoint, run, "migrate", started, phase=phase, to=goal, dry_run=dry_run, workers=workers)


def finish(
    endpoint: DbEndpoint,
    run: Run,
    action: str,
    started: float,
    *,
    phase: str | None = None,
    to: str | None,
    dry_run: bool,
    workers: int,
) -> FanOutResult:
    """The fan-out's result: returned when every target is done, else raised inside MigrationIncomplete (exit 8)."""
    out = FanOutResult(
        env=endpoint.env,
        action=action,  # type: ignore[arg-type]
        phase=phase,  # type: ignore[arg-type]
        to=to,
        dry_run=dry_run,
        parallel=workers,
        results=run.results,
        planned=run.planned,
        seconds=round(time.monotonic() - started, 2),
    )
    if out.ok:
        return out
    failed = out.failed
    names = ", ".join(r.tenant or r.target for r in failed)
    error = MigrationIncomplete(
        f"{out.action} of {out.env}: {len(failed)} of {len(out.results)} target(s) failed: {names};"
        f" the others are done",
        details=[f"{r.tenant or r.target}: {r.error}" for r in failed],
        hint=f"fix the cause, then re-run the same command: done targets are skipped (infractl db status {out.env})",
    )
    error.result = out  # type: ignore[attr-defined]  # the CLI still prints every target's result
    raise error


def run(ctx: Context, env: str, **options: Any) -> FanOutResult:
    """migrate_env on the env's endpoint: the dev stack with --emulate, else the data stack's outputs (connect.py)."""
    return migrate_env(resolve(ctx, env), **options)
