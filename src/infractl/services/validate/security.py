"""The security gate: checkov on every stack's sources (local modules followed, other clouds' stacks included) and
on every env's plan JSON; inline skips must give a reason, env-level waivers come from `validation.skip_checks`; a
source finding the plans evaluated in every planned env is superseded by the plans' verdict.
"""

from __future__ import annotations

import fnmatch
import os
import time
from pathlib import Path
from typing import Any

from infractl.adapters import checkov
from infractl.models.validation import Finding, Waived
from infractl.services.stacks import tfsource
from infractl.services.validate.runstate import RunState, StackWork


def source_scan(v: RunState, works: list[StackWork], binary: str) -> tuple[list[Finding], list[Waived]]:
    """checkov on each stack's sources (local modules followed); every inline skip must give a reason."""
    found: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    others = other_cloud_stacks(v)
    scanned = [(w.stack.name, v.stack_dir(w.stack)) for w in works] + list(others.items())
    for name, stack_dir in scanned:
        for directory in tfsource.module_dirs(stack_dir):
            for skip in tfsource.skips_in(directory):
                key = (name, str(skip.file), str(skip.line))
                if skip.reason or key in seen:
                    continue
                seen.add(key)
                found.append(
                    Finding(
                        gate="security",
                        rule="skip-without-reason",
                        stack=name,
                        env=None,
                        message=f"checkov:skip={skip.check_id} gives no reason: write"
                        f" `#checkov:skip={skip.check_id}:<why this check does not apply>`",
                        file=v.rel(skip.file),
                        line=skip.line,
                    )
                )
    v.progress.note(f"checkov: sources of {len(works)} stack(s)")
    results = _checkov(v, binary, "sources", directory=v.ctx.project.terraform_dir / "stacks")
    by_dir = {v.stack_dir(w.stack).resolve(): w.stack.name for w in works}
    other_dirs = {d.resolve(): name for name, d in others.items()}
    waived: list[Waived] = []
    for result in results:
        if result.status == "passed":
            continue
        owners = _stacks_of(result, by_dir) or _stacks_of(result, other_dirs)
        for name in owners:
            if result.status == "skipped":
                where = f"{v.rel(result.file)}:{result.lines[0]}"
                waived.append(_waived(result, name, None, result.reason, where))
                continue
            found.append(_checkov_finding(result, name, None, v.rel(result.file), result.lines[0]))
    return found, waived


def other_cloud_stacks(v: RunState) -> dict[str, Path]:
    """ "<cloud>/<stack>" -> folder of every stack of a cloud the environments don't deploy (checked statically:
    checkov here, the contract in static.run_parity)."""
    stacks_root = v.ctx.project.terraform_dir / "stacks"
    return {
        f"{d.parent.name}/{d.name}": d
        for d in sorted(stacks_root.glob("*/*"))
        if d.parent.name not in v.deployed_clouds and not d.name.startswith("_") and any(d.glob("*.tf"))
    }


def _checkov(v: RunState, binary: str, scan: str, **target: Any) -> list[checkov.Result]:
    """One timed checkov run, passed and skipped results included (the caller needs both)."""
    began = time.monotonic()
    results = checkov.scan(binary, scratch=v.ws("checkov", scan), base_env=v.ctx.environ, with_passed=True, **target)
    v.timings[f"checkov {scan}"] = {"scan": round(time.monotonic() - began, 2)}
    return results


def _stacks_of(result: checkov.Result, by_dir: dict[Path, str]) -> list[str]:
    """The stacks a source finding belongs to: the stack folder holding the file, or the stacks whose module call
    named first in the address leads to the module holding it."""
    file = Path(os.path.realpath(result.file)) if result.file else None
    parsed = tfsource.parse_address(result.resource)
    owners = []
    for stack_dir, name in by_dir.items():
        if file is not None and file.parent == stack_dir and (parsed is None or not parsed.modules):
            owners.append(name)
        elif parsed is not None and parsed.modules:
            module_dir = tfsource.module_dir_of(stack_dir, parsed.modules)
            if module_dir is not None and file is not None and file.parent == module_dir.resolve():
                owners.append(name)
    return owners


def plan_scan(
    v: RunState, works: list[StackWork], binary: str
) -> tuple[list[Finding], list[Waived], set[tuple[str, str, str, tuple[Any, ...]]]]:
    """checkov on every env's plan JSON in one run. Also returns what it evaluated, (stack, env, check,
    resource), so a source finding the plans judged with real values is not reported twice."""
    plans = [(w, env, path) for w in works for env, path in w.plans.items()]
    if not plans:
        return [], [], set()
    v.progress.note(f"checkov: {len(plans)} plan(s)")
    results = _checkov(v, binary, "plans", plan_files=[p for _, _, p in plans])
    for work, env, _ in plans:
        work.status[("security", env)] = "pass"  # scanned; findings below make the cell fail
    owner = {str(p.resolve()): (w, env) for w, env, p in plans}
    found: list[Finding] = []
    waived: list[Waived] = []
    evaluated: set[tuple[str, str, str, tuple[Any, ...]]] = set()
    for result in results:
        if str(Path(result.file).resolve()) not in owner:
            continue
        work, env = owner[str(Path(result.file).resolve())]
        evaluated.add((work.stack.name, env, result.check_id, _resource_key(result.resource)))
        if result.status != "failed":
            continue
        inline = tfsource.inline_skip(v.stack_dir(work.stack), result.resource, result.check_id)
        if inline is not None:
            if inline.reason:  # without one, source_scan already failed the gate on the comment itself
                where = f"{v.rel(inline.file)}:{inline.line}"
                waived.append(_waived(result, work.stack.name, env, inline.reason, where))
            continue
        env_skip = next(
            (
                s
                for s in v.envs[env].validation.skip_checks
                if s.check == result.check_id
                and fnmatch.fnmatchcase(work.stack.name, s.stack)
                and fnmatch.fnmatchcase(result.resource, s.address)
            ),
            None,
        )
        if env_skip is not None:
            where = f"environments/{env}.yaml: validation.skip_checks"
            waived.append(_waived(result, work.stack.name, env, env_skip.reason, where))
            continue
        found.append(_checkov_finding(result, work.stack.name, env))  # located at the end, with the others
    return found, waived, evaluated


def _checkov_finding(result: checkov.Result, stack: str, env: str | None, file: str = "", line: int = 0) -> Finding:
    scope = "plan" if env else "sources"
    return Finding(
        gate="security",
        rule=result.check_id,
        stack=stack,
        env=env,
        message=f"{result.name} (checkov, {scope}){_guide(result)}",
        address=result.resource,
        file=file,
        line=line,
    )


def _waived(result: checkov.Result, stack: str, env: str | None, reason: str, where: str) -> Waived:
    return Waived(check=result.check_id, stack=stack, env=env, address=result.resource, reason=reason, where=where)


def _resource_key(address: str) -> tuple[Any, ...]:
    """A resource without its instance keys: plans name instances (`x["a"]`), sources name blocks (`x`)."""
    parsed = tfsource.parse_address(address)
    return (parsed.modules, parsed.mode, parsed.type, parsed.name) if parsed else (address,)


def superseded(
    finding: Finding, planned_envs: list[str], evaluated: set[tuple[str, str, str, tuple[Any, ...]]]
) -> bool:
    """A source finding whose check the plan scan evaluated for the same resource in every planned env: the plans,
    which carry each env's real values, decide (sources leave variables unresolved)."""
    key = _resource_key(finding.address)
    return bool(planned_envs) and all((finding.stack, e, finding.rule, key) in evaluated for e in planned_envs)


def _guide(result: checkov.Result) -> str:
    return f" — {result.guideline}" if result.guideline else ""
