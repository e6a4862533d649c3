"""One migration target at a time (docs/migrations.md): `migrate_target` (what `tenant create` and `restore` call,
and `db migrate --tenant T`'s unit) and `run_on` (the step the fan-out runs on a connection each worker reuses).

Per target, on its own connection (a session of the target's database):
1. `SET ROLE` to the role owning the target's objects: the runtime's role (the endpoint's owner_role) for the shared
   target, the tenant's role (`tenant_<name>`) for a tier B schema or tier C database — so what a migration creates
   belongs to who uses it. The role must exist (tenant creation makes it).
2. `pg_advisory_lock(pg.advisory_key(target.lock_key))`, session-level: a second migration of the same target
   (another `db migrate`, the chart's migration Job, `tenant create`) waits for the first, then finds nothing to do.
3. `SET lock_timeout` (LOCK_TIMEOUT): a migration waiting behind a long transaction for a table lock gives up
   instead of queueing every query of the application behind it (squawk's require-lock-timeout is met here, once).
4. The runner applies (or reverts) revision by revision, one transaction each: a failure leaves the target at the
   last revision that committed, consistent, and a re-run continues from there.
A migration failure never raises: the result says `failed`, with the revision that failed and the database's error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from infractl.adapters import migrations, pg
from infractl.errors import UsageError
from infractl.models.db import Target, TargetResult, tenant_ident
from infractl.services.db import catalog
from infractl.services.db.connect import DbEndpoint

LOCK_TIMEOUT = "10s"
APPLICATION = "infractl-migrate"
BASE = "base"  # below the first revision (what the runner's downgrade takes to revert everything)

Goal = Callable[[str | None], str | None]  # current revision -> the revision to reach (None: base)


def target_role(endpoint: DbEndpoint, target: Target) -> str:
    """The role a target's migrations run as: the runtime's role for the shared target, else the tenant's."""
    if target.kind == "shared" or not target.tenant:
        return endpoint.owner_role
    return tenant_ident(target.tenant)


def chain_ids() -> list[str]:
    return [r.id for r in migrations.revisions()]


def check_revision(revision: str, *, allow_base: bool = False) -> str:
    """`revision` as the runner takes it ("head" resolved), or a UsageError listing the chain."""
    ids = chain_ids()
    if revision == "head":
        return ids[-1]
    if revision in ids or (allow_base and revision == BASE):
        return revision
    raise UsageError(f"unknown revision {revision!r}", hint=f"revisions: {', '.join(ids)}" + (", base" * allow_base))


def path(ids: list[str], before: str | None, goal: str | None, direction: str) -> list[str]:
    """The revisions between `before` and `goal` in the order they would run (up: applied; down: reverted)."""
    at = ids.index(before) if before is not None else -1
    to = ids.index(goal) if goal is not None else -1
    if direction == "up":
        return ids[at + 1 : to + 1] if to > at else []
    return list(reversed(ids[to + 1 : at + 1])) if to < at else []


def describe(exc: BaseException) -> str:
    """The first line of what the database (or the runner) said: no SQL echo, no DETAIL with row values."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    first = text.splitlines()[0].strip() if text else ""
    return first or type(original).__name__


def _exec(conn: Any, sql: str, **params: Any) -> Any:
    from sqlalchemy import text

    return conn.execute(text(sql), params)


def run_on(
    conn: Any,
    target: Target,
    *,
    role: str,
    goal_for: Goal,
    direction: str = "up",
    dry_run: bool = False,
    on_wait: Callable[[str], None] | None = None,
) -> tuple[TargetResult, list[str]]:
    """Bring one target to goal_for(its current revision) on `conn` (a SQLAlchemy connection to the target's
    database, reusable for the next target). Returns the result and the revisions it ran (or would run: dry_run)."""
    started = time.monotonic()
    ids = chain_ids()
    before: str | None = None
    goal: str | None = None
    todo: list[str] = []
    locked = False

    def result(status: str, *, revision: str | None, applied: list[str] = (), error: str | None = None) -> TargetResult:
        return TargetResult(
            target=target.name,
            kind=target.kind,
            tenant=target.tenant,
            status=status,  # type: ignore[arg-type]
            revision_before=before,
            revision=revision,
            applied=list(applied),
            error=error,
            seconds=round(time.monotonic() - started, 3),
        )

    key = pg.advisory_key(target.lock_key)

    def plan() -> str | None:
        """Read where the target is and what it needs; the failure message when it is at an unknown revision."""
        nonlocal before, goal, todo
        before = migrations.current(conn, target.schema_name)
        conn.commit()
        if before is not None and before not in ids:
            return f"at revision {before}, which this chain does not have (migrated by a newer release?)"
        wanted = goal_for(before)
        goal = None if wanted == BASE else ids[-1] if wanted == "head" else wanted
        todo = path(ids, before, goal, direction)
        return None

    try:
        _exec(conn, "SELECT set_config('role', :role, false)", role=role)  # = SET ROLE, the name as a value
        conn.commit()
        # at its goal already: done, without the lock (a committed version is final; a migration under way has not
        # committed its last revision yet, so the target is not at its goal and takes the lock below)
        if (problem := plan()) is not None:
            return result("failed", revision=before, error=problem), []
        if not todo:
            return result("skipped", revision=before), []
        if dry_run:
            return result("pending", revision=before), todo
        got = _exec(
            conn,
            "SELECT pg_try_advisory_lock(:k), set_config('lock_timeout', :timeout, false)",
            k=key,
            timeout=LOCK_TIMEOUT,
        ).one()[0]
        if not got:
            if on_wait:
                on_wait(f"{target.name}: waiting for another migration of this target")
            _exec(conn, "SELECT set_config('lock_timeout', '0', false)")  # wait as long as it takes
            _exec(
                conn,
                "SELECT pg_advisory_lock(:k), set_config('lock_timeout', :timeout, false)",
                k=key,
                timeout=LOCK_TIMEOUT,
            )
        locked = True
        conn.commit()
        if (problem := plan()) is not None:  # again, under the lock: another run may have moved it
            return result("failed", revision=before, error=problem), []
        if not todo:
            return result("skipped", revision=before), []
        if direction == "up":
            done = migrations.upgrade(conn, goal or BASE, schema=target.schema_name)
            now = done[-1] if done else before
        else:
            done = migrations.downgrade(conn, goal or BASE, schema=target.schema_name)
            now = (ids[ids.index(done[-1]) - 1] if ids.index(done[-1]) > 0 else None) if done else before
        return result("applied", revision=now, applied=done), todo
    except migrations.Irreversible as exc:
        return result("failed", revision=before, error=exc.message), todo
    except migrations.Failed as exc:
        now = _current_after_failure(conn, target)
        return result("failed", revision=now, applied=exc.applied, error=f"{exc.revision}: {exc.cause}"), todo
    except Exception as exc:  # a migration failure is a result, never an exception (docstring)
        error = describe(exc)
        if not todo:  # before any revision ran: connecting, the role, the lock, reading the version
            return result("failed", revision=before, error=error), todo
        now = _current_after_failure(conn, target)
        known = now is None or now in ids
        failed = path(ids, now, goal, direction)[:1] if known else []
        where = f"{failed[0]}: " if failed else ""
        done = path(ids, before, now, direction) if known else []
        return result("failed", revision=now, applied=done, error=f"{where}{error}"), todo
    finally:
        if locked:
            _release(conn, key)


def read_current(conn: Any, target: Target, *, role: str) -> str | None:
    """The target's revision, read as its role (raises what the database raises)."""
    try:
        _exec(conn, "SELECT set_config('role', :role, false)", role=role)
        conn.commit()
        now = migrations.current(conn, target.schema_name)
        conn.commit()
        return now
    except Exception:
        conn.rollback()
        raise


def _current_after_failure(conn: Any, target: Target) -> str | None:
    try:
        conn.rollback()
        now = migrations.current(conn, target.schema_name)
        conn.commit()
        return now
    except Exception:
        return None


def _release(conn: Any, key: int) -> None:
    try:
        if conn.in_transaction():
            conn.rollback()
        _exec(conn, "SELECT pg_advisory_unlock(:k), set_config('lock_timeout', '0', false)", k=key)
        conn.commit()
    except Exception:  # a broken connection drops its session locks with it
        pass


def migrate_target(endpoint: DbEndpoint, target: Target, *, to: str = "head") -> TargetResult:
    """Bring one target to `to` (a revision id or "head"; never down), saving the result in the catalog.

    Never raises for a migration failure (nor for a target that cannot be reached): the result is `failed` with
    the error. Raises UsageError for an unknown revision and CloudError when the catalog cannot be reached."""
    goal = check_revision(to)
    result = open_and_run(endpoint, target, goal_for=lambda _current: goal)
    with pg.connect(endpoint.server, endpoint.database, application_name=APPLICATION) as cat:
        catalog.ensure(cat)
        catalog.save_result(cat, result)
    return result


def open_and_run(endpoint: DbEndpoint, target: Target, *, goal_for: Goal, direction: str = "up") -> TargetResult:
    """run_on over a connection of its own (opened and closed here)."""
    started = time.monotonic()
    server = endpoint.server_for(target.instance)
    with pg.engine(server, target.database, application_name=APPLICATION) as engine:
        try:
            conn = engine.connect()
        except Exception as exc:
            return unreachable(target, server.label, server.where(target.database), exc, started)
        with conn:
            result, _ = run_on(conn, target, role=target_role(endpoint, target), goal_for=goal_for, direction=direction)
            return result


def unreachable(target: Target, label: str, where: str, exc: BaseException, started: float) -> TargetResult:
    return TargetResult(
        target=target.name,
        kind=target.kind,
        tenant=target.tenant,
        status="failed",
        error=f"cannot connect to {label} at {where}: {describe(exc)}",
        seconds=round(time.monotonic() - started, 3),
    )
