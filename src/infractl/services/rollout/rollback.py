"""How a local rollout ends (docs/delivery.md#rollback): back to stable (a breach, an abort, no judgement) or
promoted (the new release becomes the stable api). Both leave the proxy at stable 100 %, canary 0, and no canary
process; every request in flight finishes (the canary is drained before it stops)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from infractl.adapters import prometheus
from infractl.errors import InfractlError
from infractl.models.rollout import Criterion, Rollback, RolloutState
from infractl.services.rollout import store
from infractl.services.rollout.endpoint import CANARY, CANARY_SERVER, STABLE_SERVER, Stack

DRAIN_TIMEOUT_S = 30.0
RESOLUTION_S = 0.1


def back_to_stable(
    stack: Stack,
    state: RolloutState,
    reason: str,
    *,
    status: str = "rolled-back",
    criteria: Sequence[Criterion] = (),
) -> RolloutState:
    """Canary 0, stable 100 (one runtime-API line), confirmed, then the canary drained and stopped. With the
    criteria, the time from the first breaching scrape to stable 100 % is measured."""
    rt = stack.runtime()
    rt.set_weights({STABLE_SERVER: 100, CANARY_SERVER: 0})
    weights = rt.weights()
    stable_at = store.now()
    breach_at = _breach_at(state)
    first_bad = _first_bad_scrape(stack, state, stable_at, criteria) if breach_at else None
    start = first_bad or breach_at
    rollback = Rollback(
        reason=reason,
        breach_at=breach_at,
        first_bad_scrape_at=first_bad,
        stable_at=stable_at,
        seconds=round((stable_at - start).total_seconds(), 3) if start else None,
    )
    state = store.save(
        stack.directory,
        state.model_copy(
            update={"status": status, "reason": reason, "weights": weights, "rollback": rollback, "pid": None}
        ),
    )
    _retire_canary(stack)
    return store.save(stack.directory, state.model_copy(update={"finished_at": store.now()}))


def finish_success(stack: Stack, state: RolloutState, progress: Callable[[str], None]) -> RolloutState:
    """Every step passed: the stable api restarted as the release (the canary serves 100 % meanwhile), traffic back
    to it, the canary drained and stopped."""
    progress(f"promoting: the stable api restarts as {state.release} while the canary serves")
    rt = stack.runtime()
    if rt.weights().get(CANARY_SERVER) != 100:
        rt.set_weights({STABLE_SERVER: 0, CANARY_SERVER: 100})
    # from here a failure must leave the traffic on the canary (the stable api may be down): see local.run
    state = store.save(stack.directory, state.model_copy(update={"promoting": True, "weights": rt.weights()}))
    stack.restart_stable(state.release)
    rt.set_weights({STABLE_SERVER: 100, CANARY_SERVER: 0})
    weights = rt.weights()
    state = store.save(
        stack.directory,
        state.model_copy(
            update={
                "status": "succeeded",
                "reason": None,
                "weights": weights,
                "stable": state.release,
                "pid": None,
                "promoting": False,
            }
        ),
    )
    _retire_canary(stack)
    progress(f"{state.release} is stable: 100 % of the traffic")
    return store.save(stack.directory, state.model_copy(update={"finished_at": store.now()}))


def _retire_canary(stack: Stack) -> None:
    """Drain the canary (its weight is 0 already), then stop it, drained or not (a request running past
    DRAIN_TIMEOUT_S is cut: the rollback must not leave the canary serving)."""
    try:
        if stack.has(CANARY):
            stack.runtime().drain(CANARY_SERVER, DRAIN_TIMEOUT_S)
    finally:
        stack.stop_canary()


def _breach_at(state: RolloutState) -> datetime | None:
    for step in reversed(state.history):
        for sample in step.samples:
            if sample.verdict == "breach":
                return sample.at
    return None


def _first_bad_scrape(
    stack: Stack, state: RolloutState, until: datetime, criteria: Sequence[Criterion]
) -> datetime | None:
    """The first scrape at which the breached SLO's canary ratio was over its threshold: a range query over the
    breached step at RESOLUTION_S, finer than any scrape interval, so the first point over the threshold is within
    RESOLUTION_S of the scrape that made it so. Where the time to roll back starts."""
    step = state.history[-1]
    bad = next((s for s in step.samples if s.verdict == "breach"), None)
    criterion = next((c for c in criteria if bad is not None and c.slo == bad.slo), None)
    if criterion is None:
        return None
    try:
        points = prometheus.series(
            stack.prometheus_url, criterion.query, step.started_at - timedelta(seconds=1), until, RESOLUTION_S
        )
    except InfractlError:
        return None
    return next((t for t, v in points if v > criterion.max_error_ratio), None)
