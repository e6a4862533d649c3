"""`infractl db status`: per target, its current revision, the head, the revisions still pending (with their phase)
and what the last migrate or rollback saved in the catalog (its status and error). Reads only."""

from __future__ import annotations

from typing import Any

from infractl.adapters import migrations
from infractl.models.migrations import PendingRevision, StatusReport, TargetState
from infractl.services.context import Context
from infractl.services.db import catalog, fanout, migrate
from infractl.services.db.connect import DbEndpoint, resolve


def status_env(endpoint: DbEndpoint, *, tenant: str | None = None, parallel: int | None = None) -> StatusReport:
    chain = migrations.revisions()
    ids = [r.id for r in chain]
    head = ids[-1]
    with fanout.session(endpoint) as (cat, conns):
        targets = fanout.select_targets(cat, endpoint, tenant)
        saved = catalog.saved_results(cat)
        currents = fanout.read_all(conns, targets, parallel or fanout.default_parallel())
    states = []
    for t in targets:
        now = currents[t.name]
        last = saved.get(t.name) or {}
        state = TargetState(
            target=t.name,
            kind=t.kind,
            tenant=t.tenant,
            where=f"{t.database}/{t.schema_name}" if t.schema_name else t.database,
            head=head,
            saved_status=last.get("status"),
            saved_error=last.get("error"),
            saved_at=last.get("updated_at"),
        )
        if isinstance(now, Exception):
            state.error = f"cannot read its revision: {migrate.describe(now)}"
        elif now is not None and now not in ids:
            state.current = now
            state.error = f"at revision {now}, which this chain does not have (migrated by a newer release?)"
        else:
            state.current = now
            state.pending = [
                PendingRevision(id=r.id, phase=r.phase, description=r.description)
                for r in chain[(ids.index(now) + 1 if now else 0) :]
            ]
        states.append(state)
    return StatusReport(env=endpoint.env, head=head, targets=states)


def status(ctx: Context, env: str, **options: Any) -> StatusReport:
    """status_env on the env's endpoint: the dev stack with --emulate, else the data stack's outputs (connect.py)."""
    return status_env(resolve(ctx, env), **options)
