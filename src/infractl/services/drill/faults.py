"""Entry of `infractl drill faults` (docs/drills.md): on the running native dev stack, each scenario (scenarios.py)
starts N workflows through the api, injects its fault while they are in flight, recovers, and checks from the
database that every started workflow completed with each effect exactly once (workload.py). Every scenario is
bounded by deadline_s and ends by putting the stack back as `dev up` left it (harness.py), whatever happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from infractl.errors import ExternalToolError, UsageError
from infractl.models.drill import SCENARIOS, FaultsReport, ScenarioResult
from infractl.services.drill import harness as harness_module
from infractl.services.drill.scenarios import SCENARIO_FUNCTIONS
from infractl.services.drill.steps import Progress, Steps

MAX_WORKFLOWS = 1000


def run(
    work_dir: Path,
    root: Path,
    *,
    env: str,
    scenarios: Sequence[str],
    workflows: int,
    progress: Progress,
    partition_seconds: float = 5.0,
    deadline_s: float = 180.0,
) -> FaultsReport:
    """Run the scenarios in order (all of SCENARIOS when empty) and report each."""
    chosen = list(scenarios) or list(SCENARIOS)
    unknown = [s for s in chosen if s not in SCENARIO_FUNCTIONS]
    if unknown:
        raise UsageError(f"unknown scenario: {', '.join(unknown)}", hint=f"one of {', '.join(SCENARIOS)}")
    if not 1 <= workflows <= MAX_WORKFLOWS:
        raise UsageError(f"--workflows {workflows}: between 1 and {MAX_WORKFLOWS}")
    if partition_seconds <= 0 or deadline_s <= 0:
        raise UsageError("the partition and the deadline must be positive")
    started = datetime.now(UTC)
    results: list[ScenarioResult] = []
    with harness_module.opened(work_dir, root, progress, deadline_s) as h:
        h.workflows = workflows
        h.partition_seconds = partition_seconds
        for name in chosen:
            results.append(_scenario(h, name, progress))
    return FaultsReport(
        env=env,
        workflows=workflows,
        started_at=started,
        finished_at=datetime.now(UTC),
        scenarios=results,
        notes=[
            "checked from the dev stack's database and S3: runs, outbox, delivered_events, evidence_entries,"
            " idempotency_keys, the pinned evidence versions",
        ],
    )


def _scenario(h: harness_module.Harness, name: str, progress: Progress) -> ScenarioResult:
    steps = Steps(prefix=name, progress=progress)
    h.begin()
    recovery: float | None = None
    try:
        with steps.part():
            recovery = SCENARIO_FUNCTIONS[name](h, steps)
    finally:
        with steps.part(), steps.step("restore") as t:
            problems = h.cleanup()
            if problems:
                raise ExternalToolError("the stack was not fully restored", details=problems)
            t.detail = "the dev stack as before: every service healthy on its port, the app with its normal contract"
    notes = list(h.notes.pop(name, []))
    facts = h.facts.pop(name, {})
    if facts:
        notes.append(", ".join(f"{k}={v}" for k, v in facts.items()))
    return ScenarioResult(
        scenario=name, steps=steps.steps, check=h.checks.pop(name, None), recovery_seconds=recovery, notes=notes
    )
