"""The DR drill's cluster part: the cluster stack destroyed and re-created from code, its outputs compared with the
ones it had, and the charts re-rendered against the new outputs. Each step timed; the whole is the cluster's RTO.

Nothing else is touched: `destroy --stack cluster` refuses when another stack depends on the cluster (the stack
graph's rule), and the re-creation plans only the cluster stack, ignoring any saved plan (a drill never applies a plan
someone left behind)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infractl.models.drill import Measure, PartResult
from infractl.models.runs import Event, StackResult
from infractl.services.context import Context
from infractl.services.drill.steps import Progress, Steps

STACK = "cluster"
# Outputs a new cluster is expected to change: its API endpoint, its CA and its OIDC issuer (a new cluster gets a
# new issuer id; IRSA trust policies follow through the stacks that read it).
EXPECTED_CHANGES = (
    "cluster_endpoint",
    "cluster_certificate_authority",
    "cluster_security_group_id",  # EKS makes the cluster security group with the cluster
    "oidc_issuer_url",
    "oidc_provider_arn",
)


class _Lines:
    """A stack run's progress (models.runs.Progress) as progress lines."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def stack_started(self, stack: str, phase: str) -> None:
        self.progress(f"cluster: {stack}: {phase}")

    def stack_event(self, stack: str, event: Event) -> None:
        if event.level == "error":
            self.progress(f"cluster: {stack}: {event.message}")

    def stack_finished(self, result: StackResult) -> None:
        self.progress(f"cluster: {result.stack}: {result.status}")

    def note(self, message: str) -> None:
        self.progress(f"cluster: {message}")


def run(ctx: Context, env: str, *, work: Path, rto_minutes: int, progress: Progress) -> PartResult:
    from infractl.services.render import render as charts
    from infractl.services.stacks import runs

    steps = Steps(prefix="cluster", progress=progress)
    lines = _Lines(progress)
    measures: list[Measure] = []
    yes: Callable[[str], bool] = lambda _q: True  # noqa: E731 — the drill was confirmed as a whole
    with steps.part():
        with steps.step("outputs-before") as t:
            before = _values(runs.applied_outputs(ctx, env, [STACK], lines)[STACK])
            if not before:
                steps.fail(
                    "outputs-before",
                    f"the cluster stack of {env} is not applied, there is nothing to recreate:"
                    f" apply it first (infractl apply {env} --stack cluster)",
                )
            t.detail = f"{len(before)} outputs"
        with steps.step("render-before") as t:
            first = charts.render(ctx.project, env, work / "render-before", outputs=charts.state_outputs(ctx, env))
            t.detail = f"{len(first.charts)} charts"
        t0 = time.monotonic()
        with steps.step("destroy") as t:
            result = runs.destroy(ctx, env, lines, yes, only=[STACK])
            _require_ok(steps, "destroy", result)
            t.detail = _counts(result, "destroyed")
        with steps.step("recreate") as t:
            result = runs.apply(ctx, env, lines, yes, only=[STACK], operation="bootstrap")
            _require_ok(steps, "recreate", result)
            t.detail = _counts(result, "applied")
        with steps.step("compare") as t:
            after = _values(runs.applied_outputs(ctx, env, [STACK], lines)[STACK])
            missing = sorted(k for k in before if after.get(k) in (None, "", [], {}))
            changed = sorted(k for k in before if k not in missing and before[k] != after.get(k))
            t.facts = {"outputs": len(after), "changed": changed, "missing": missing}
            if missing or set(after) != set(before):
                gone = sorted(set(before) - set(after)) + missing
                steps.fail(
                    "compare",
                    f"the recreated cluster lacks outputs it had: {', '.join(gone) or '-'}; new ones: "
                    f"{', '.join(sorted(set(after) - set(before))) or '-'} (the stack's code and its state disagree:"
                    f" read terraform/stacks/aws/cluster/outputs.tf)",
                )
            unexpected = [k for k in changed if k not in EXPECTED_CHANGES]
            t.facts["unexpected"] = unexpected
            t.detail = (
                f"{len(after)} outputs, {len(changed)} changed"
                + (f" ({', '.join(changed)})" if changed else "")
                + (f"; not expected to change: {', '.join(unexpected)}" if unexpected else "")
            )
        with steps.step("render-after") as t:
            second = charts.render(ctx.project, env, work / "render-after", outputs=charts.state_outputs(ctx, env))
            differ = _differing(first.charts, second.charts)
            t.facts = {"charts": len(second.charts), "changed": differ}
            t.detail = f"{len(second.charts)} charts render and lint against the new outputs" + (
                f"; changed: {', '.join(differ)}" if differ else "; no chart changed"
            )
        measures.append(
            Measure(
                name="rto",
                scope="cluster",
                target_minutes=rto_minutes,
                measured_seconds=round(time.monotonic() - t0, 3),
                detail="cluster destroyed, re-created from code and its charts re-rendered",
            )
        )
    return PartResult(part="cluster", steps=steps.steps, measures=measures)


def _values(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: ("(sensitive)" if v.get("sensitive") else v.get("value")) for k, v in raw.items()}


def _require_ok(steps: Steps, name: str, result: Any) -> None:
    if result.ok and not result.interrupted:
        return
    failed = [s for s in result.stacks if s.status in ("failed", "stopped", "not-reached", "not-started")]
    reason = "; ".join(f"{s.stack}: {s.status}: {s.error or ''}".strip() for s in failed) or "interrupted"
    hint = next((s.hint for s in failed if s.hint), None)
    steps.fail(name, reason + (f" ({hint})" if hint else ""))


def _counts(result: Any, verb: str) -> str:
    statuses = [f"{s.stack} {s.status}" for s in result.stacks]
    return ", ".join(statuses) or f"nothing {verb}"


def _differing(first: list[Any], second: list[Any]) -> list[str]:
    """The charts whose rendered manifest differs between the two renders."""
    before = {c.chart: Path(c.manifest) for c in first}
    out = []
    for c in second:
        old = before.get(c.chart)
        if old is None or _read(old) != _read(Path(c.manifest)):
            out.append(c.chart)
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return json.dumps(None)
