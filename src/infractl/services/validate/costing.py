"""`infractl cost ENV [--compare ENV2|PLANFILE]`: the env's monthly cost per stack and resource, and a difference.
The plans come from a validate run (run.py) limited to the fmt, validate, plan and cost gates; pricing.py prices them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infractl.errors import ConfigError, ExternalToolError, UsageError
from infractl.models.runs import Progress
from infractl.models.stacks import Manifest
from infractl.models.validation import CostComparison, CostDelta, EnvCost, Finding
from infractl.services import environments
from infractl.services.context import Context
from infractl.services.stacks import graph, tfsource
from infractl.services.validate import pricing, run
from infractl.services.validate.planroot import split_plan


def estimate(
    ctx: Context, env: str, stacks: list[str], compare: str | None, *, progress: Progress, jobs: int
) -> CostComparison:
    names = environments.names(ctx.project)
    plan_file = _plan_file(compare) if compare and compare not in names else None
    if compare and plan_file is None and compare not in names:
        raise UsageError(f"--compare {compare}: neither an environment nor a plan JSON file")
    envs = [env] + ([compare] if compare and plan_file is None and compare != env else [])
    costs, _ = plans_for_cost(ctx, envs, stacks, progress, jobs)
    result = CostComparison(env=costs[env])
    if plan_file is not None:
        manifest = graph.load_manifest(ctx.project)
        parts, note = attribute(plan_file[1], manifest, costs[env], ctx.project.terraform_dir / "stacks")
        other = pricing.estimate(
            pricing.load_catalog(ctx.project),
            environments.load(ctx.project, env),
            parts,
            False,
            sources={
                s: ctx.project.terraform_dir / "stacks" / manifest.stacks[s].path for s in parts if s in manifest.stacks
            },
        )
        other = other.model_copy(update={"notes": [f"{plan_file[0]}: {note}", *other.notes]})
        result = CostComparison(env=costs[env], other_name=str(plan_file[0]), other=other)
    elif compare:
        result = CostComparison(env=costs[env], other_name=compare, other=costs[compare])
    if result.other is not None:
        result.differences = differences(result.env, result.other)
    return result


def plans_for_cost(
    ctx: Context, env_names: list[str], stacks: list[str], progress: Progress, jobs: int
) -> tuple[dict[str, EnvCost], list[Finding]]:
    """`infractl cost`: plan the envs (no security gate) and price them."""
    report = run.run(
        ctx,
        envs=env_names,
        stacks=stacks,
        changed_since=None,
        jobs=jobs,
        fail_fast=False,
        progress=progress,
        gates=("fmt", "validate", "plan", "cost"),
    )
    blocking = [f for f in report.findings if f.gate in ("validate", "plan")]
    if blocking:
        first = blocking[0]
        raise ExternalToolError(
            f"cannot estimate: {first.gate} failed for {first.stack}{'/' + first.env if first.env else ''}",
            details=[f"{f.stack}: {f.message}" for f in blocking[:10]],
            hint="run `infractl validate` for the full report",
        )
    return report.costs, report.findings


def _plan_file(value: str) -> tuple[Path, dict] | None:
    path = Path(value)
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ConfigError(
            f"{value}: not a plan JSON file",
            hint=f"convert a saved plan with `terraform show -json {value} > plan.json`",
        ) from None
    if not isinstance(doc, dict) or "resource_changes" not in doc:
        raise ConfigError(f"{value}: resource_changes: missing; not the output of `terraform show -json PLAN`")
    return path, doc


UNATTRIBUTED = "plan-file"


def attribute(
    doc: dict[str, Any], manifest: Manifest, env_cost: EnvCost, stacks_dir: Path
) -> tuple[dict[str, dict[str, Any]], str]:
    """A plan file cut into the stacks it belongs to, and how that was told. A plan of infractl's generated root
    (`module.<stack>.*` only, no variables of its own) is split per stack; any other plan is one stack's: the stack
    whose sources declare its resources, then whose inputs are its variables, then whose resources the env's plan
    holds. When no stack fits, or several fit alike, its resources are shown under "plan-file", never under a stack
    they are not of (nor under the one `--stack` asked for)."""
    managed = [rc.get("address", "") for rc in doc.get("resource_changes", []) if rc.get("mode") == "managed"]
    calls = {a.split(".")[1] for a in managed if a.startswith("module.")}
    if (
        managed
        and not doc.get("variables")
        and all(a.startswith("module.") for a in managed)
        and calls <= set(manifest.stacks)
    ):
        return {s: split_plan(doc, s) for s in sorted(calls)}, f"a plan of stacks {', '.join(sorted(calls))}"
    variables = set(doc.get("variables", {}))
    addresses = set(managed)
    scores: dict[str, tuple[int, float, int]] = {}
    for name, spec in manifest.stacks.items():
        stack_dir = stacks_dir / spec.path
        declared = sum(1 for a in addresses if stack_dir.is_dir() and tfsource.locate(stack_dir, a)[0] is not None)
        inputs = set(spec.inputs)
        overlap = len(inputs & variables) / len(inputs | variables) if inputs | variables else 0.0
        held = {line.address for line in env_cost.lines if line.stack == name}
        scores[name] = (declared, round(overlap, 6), len(addresses & held))
    best = max(scores.values(), default=(0, 0.0, 0))
    fits = [n for n, score in scores.items() if score == best]
    if best == (0, 0.0, 0) or len(fits) != 1:
        why = (
            "no stack's sources, inputs or resources match it"
            if best == (0, 0.0, 0)
            else f"stacks {', '.join(fits)} match it alike"
        )
        return {UNATTRIBUTED: doc}, f"{why}: shown as {UNATTRIBUTED!r}"
    return {fits[0]: doc}, f"the plan of stack {fits[0]} (its sources declare its resources)"


def differences(a: EnvCost, b: EnvCost) -> list[CostDelta]:
    """Per (stack, resource): both sides and b - a; resources only on one side count from zero."""
    left = {(line.stack, line.address): line.monthly_usd for line in a.lines}
    right = {(line.stack, line.address): line.monthly_usd for line in b.lines}
    found = []
    for key in sorted(left.keys() | right.keys()):
        x, y = left.get(key), right.get(key)
        delta = round((y or 0.0) - (x or 0.0), 2)
        if delta or (key in left) != (key in right):
            found.append(CostDelta(stack=key[0], address=key[1], a_usd=x, b_usd=y, delta_usd=delta))
    return found
