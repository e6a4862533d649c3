"""`infractl db rollback`: revert the newest revisions on the shared target and every tenant target
(docs/migrations.md#the-down-path).

First every target's current revision is read (in parallel, nothing changed) and its goal fixed: `--to REV`, or
`--steps N` below where it is. A revision declared irreversible on any target's way down refuses the whole rollback
before one target is touched, naming the revision and its reason. Then the confirmation (what is reverted where),
then the tenants in parallel and the shared target last, only when every tenant is reverted (the shared schema is
never behind a tenant, as in migrate). Each revision's downgrade is its own transaction.
"""

from __future__ import annotations

import time
from typing import Any

from infractl.adapters import migrations
from infractl.errors import RefusedError, UsageError
from infractl.models.db import Target, TargetResult
from infractl.models.migrations import FanOutResult, Planned
from infractl.services.context import Context
from infractl.services.db import fanout, migrate
from infractl.services.db.connect import DbEndpoint, resolve


def _goal(ids: list[str], current: str | None, to: str | None, steps: int) -> str | None:
    if to is not None:
        return None if to == migrate.BASE else to
    if current is None:
        return None
    at = ids.index(current) - steps
    return ids[at] if at >= 0 else None


def _result(target: Target, status: str, current: str | None, error: str | None = None) -> TargetResult:
    return TargetResult(
        target=target.name,
        kind=target.kind,
        tenant=target.tenant,
        status=status,  # type: ignore[arg-type]
        revision_before=current,
        revision=current,
        error=error,
    )


def rollback_env(
    endpoint: DbEndpoint,
    *,
    confirm: fanout.Confirm,
    tenant: str | None = None,
    to: str | None = None,
    steps: int | None = None,
    parallel: int | None = None,
    dry_run: bool = False,
    progress: fanout.Progress = lambda _m: None,
) -> FanOutResult:
    """Revert to `to` (a revision or "base") or `steps` revisions (default 1) below each target's current one."""
    started = time.monotonic()
    if to is not None and steps is not None:
        raise UsageError("give --to or --steps, not both")
    if steps is not None and steps < 1:
        raise UsageError(f"--steps {steps}: revert at least one revision")
    fixed = migrate.check_revision(to, allow_base=True) if to is not None else None
    chain = migrations.revisions()
    ids = [r.id for r in chain]
    by_id = {r.id: r for r in chain}
    workers = parallel or fanout.default_parallel()
    with fanout.session(endpoint) as (cat, conns):
        targets = fanout.select_targets(cat, endpoint, tenant)
        currents = fanout.read_all(conns, targets, workers)
        goals: dict[str, str | None] = {}
        todo: dict[str, list[str]] = {}
        early: list[TargetResult] = []
        for t in targets:
            now = currents[t.name]
            if isinstance(now, Exception):
                early.append(_result(t, "failed", None, f"cannot read its revision: {migrate.describe(now)}"))
            elif now is not None and now not in ids:
                early.append(_result(t, "failed", now, f"at revision {now}, which this chain does not have"))
            else:
                goals[t.name] = _goal(ids, now, fixed, steps or 1)
                todo[t.name] = migrate.path(ids, now, goals[t.name], "down")
        _refuse_irreversible(by_id, todo)
        moving = [t for t in targets if todo.get(t.name)]
        for t in targets:
            if t.name in todo and not todo[t.name]:
                early.append(_result(t, "skipped", currents[t.name]))  # type: ignore[arg-type]
        run = fanout.Run(cat, len(targets), progress, save=not dry_run, verb="reverted")
        run.results.extend(early)
        if dry_run:
            for t in moving:
                run.results.append(_result(t, "pending", currents[t.name]))  # type: ignore[arg-type]
                run.planned.append(
                    Planned(
                        target=t.name,
                        kind=t.kind,
                        tenant=t.tenant,
                        current=currents[t.name],  # type: ignore[arg-type]
                        revisions=todo[t.name],
                    )
                )
        elif moving:
            reverted = sorted({r for t in moving for r in todo[t.name]}, reverse=True)
            names = [t.name for t in moving]
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            if not confirm(f"revert {', '.join(reverted)} on {len(moving)} target(s) of {endpoint.env} ({shown})?"):
                raise UsageError("rollback declined: nothing was reverted")
            progress(f"reverting {', '.join(reverted)} on {len(moving)} target(s) of {endpoint.env}")
            shared = next((t for t in moving if t.kind == "shared"), None)
            tenants = [t for t in moving if t.kind != "shared"]

            def goal_for(target: Target) -> migrate.Goal:
                goal = goals[target.name]
                return lambda _current: goal

            fanout.run_parallel(conns, run, tenants, goal_for, direction="down", dry_run=False, workers=workers)
            if shared is not None:
                if any(r.status == "failed" for r in run.results):
                    run.not_reached([shared], "a tenant failed: the shared target is never reverted before them")
                else:
                    result, ran = fanout.run_one(conns, shared, goal_for(shared), direction="down", progress=progress)
                    run.add(shared, result, ran)
    order = {t.name: i for i, t in enumerate(targets)}
    run.results.sort(key=lambda r: order.get(r.target, -1))
    return fanout.finish(endpoint, run, "rollback", started, to=to, dry_run=dry_run, workers=workers)


def _refuse_irreversible(by_id: dict, todo: dict[str, list[str]]) -> None:
    where: dict[str, list[str]] = {}
    for target, revisions in todo.items():
        for rev in revisions:
            if by_id[rev].irreversible:
                where.setdefault(rev, []).append(target)
    if not where:
        return
    first = max(where)
    raise RefusedError(
        f"rollback refused: revision {first} is irreversible: {by_id[first].irreversible}; nothing was reverted",
        details=[
            f"{rev} ({by_id[rev].irreversible}): on the way down of {', '.join(sorted(ts)[:10])}"
            + (f" and {len(ts) - 10} more" if len(ts) > 10 else "")
            for rev, ts in sorted(where.items(), reverse=True)
        ],
        hint="roll back to a revision after it (--to), or restore a backup taken before it",
    )


def rollback(ctx: Context, env: str, **options: Any) -> FanOutResult:
    """rollback_env on the env's endpoint: the dev stack with --emulate, else the data stack's outputs (connect.py)."""
    return rollback_env(resolve(ctx, env), **options)
