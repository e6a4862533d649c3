"""`infractl validate`: the one entry point cli/validate.py calls (and costing.py, for `infractl cost`'s plans).

Picks the (stack, env) cells (`--changed-since` through changes.py), starts the local emulator when none runs, and
drives one run in order: static.py (fmt, init + validate, parity) → plans.py (one plan per env, tags) →
security.py (checkov on sources and plans) → pricing.py (cost), then places every finding (placement.py) and builds
the report's cells. reports.py writes the report files; docs/validate.md explains each gate.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from infractl.adapters import checkov, emulator, files, terraform
from infractl.errors import ConfigError, UsageError
from infractl.models.project import install_root
from infractl.models.runs import Progress
from infractl.models.stacks import Manifest, Stack
from infractl.models.validation import GATES, STATIC_GATES, Cell, EnvCost, Finding, ValidationReport, Waived
from infractl.services import environments
from infractl.services.context import Context
from infractl.services.stacks import graph
from infractl.services.validate import changes, plans, pricing, security, static
from infractl.services.validate.placement import place
from infractl.services.validate.runstate import RunState, StackWork


def select_cells(
    ctx: Context,
    manifest: Manifest,
    env_names: list[str],
    stack_names: list[str],
    changed_since: str | None,
) -> dict[str, list[str]]:
    """stack -> envs to validate, in dependency order."""
    order = graph.topo_order(manifest)
    for name in stack_names:
        if name not in manifest.stacks:
            raise UsageError(f"unknown stack {name!r}", hint=f"stacks: {', '.join(order)}")
    chosen = [s for s in order if not stack_names or s in stack_names]
    if changed_since is None:
        return {s: list(env_names) for s in chosen}
    affected = changes.affected_cells(ctx.project, manifest, changed_since, env_names)
    return {s: [e for e in env_names if e in affected.get(s, set())] for s in chosen if affected.get(s)}


def run(
    ctx: Context,
    *,
    envs: list[str],
    stacks: list[str],
    changed_since: str | None,
    jobs: int,
    fail_fast: bool,
    progress: Progress,
    gates: tuple[str, ...] = GATES,
) -> ValidationReport:
    started = time.monotonic()
    manifest = graph.load_manifest(ctx.project)
    known = environments.names(ctx.project)
    if not known:
        raise ConfigError(f"{ctx.project.rel(ctx.project.environments_dir)}: no environment files (<name>.yaml)")
    for name in envs:
        if name not in known:
            raise UsageError(f"unknown environment {name!r}", hint=f"environments: {', '.join(known)}")
    env_names = envs or known
    loaded = {name: environments.load(ctx.project, name) for name in env_names}
    for env in loaded.values():
        if env.cloud != "aws":
            raise ConfigError(f"environments/{env.name}.yaml: cloud: {env.cloud!r} cannot be validated yet")
    cells = select_cells(ctx, manifest, env_names, stacks, changed_since)
    catalog = pricing.load_catalog(ctx.project) if "cost" in gates else None
    v = RunState(ctx, manifest, loaded, progress, max(1, jobs), fail_fast, gates)
    works = [StackWork(Stack(name=s, spec=manifest.stacks[s]), e) for s, e in cells.items()]
    checkov_bin = ""
    if not works:
        deployed = v.deployed_clouds
        if changed_since is None or not changes.touches_parity(ctx.project, changed_since, deployed):
            progress.note(f"nothing to validate: no stack changed since {changed_since}")
            return ValidationReport(
                envs=env_names,
                stacks=[],
                cells=[],
                findings=[],
                waived=[],
                costs={},
                changed_since=changed_since,
                finished_at=datetime.now(UTC),
            )
        progress.note(f"no {'/'.join(sorted(deployed))} stack changed since {changed_since}: parity and checkov only")
        return _static_only(v, ctx, gates, env_names, changed_since, started)
    if "security" in gates:
        checkov_bin = checkov.find_binary(ctx.project.root, ctx.settings.checkov_bin, home=install_root())
    with _emulator(ctx, progress) as (url, ca_file):
        v.emulator_url, v.ca_file = url, ca_file
        files.write_private(
            ctx.cli_config_path,
            terraform.cli_config_text(mirror=ctx.settings.provider_mirror, plugin_cache=ctx.plugin_cache),
        )
        ctx.plugin_cache.mkdir(parents=True, exist_ok=True)
        source: list[Finding] = []
        waived: list[Waived] = []
        parity_report, parity_findings = None, []
        with ThreadPoolExecutor(max_workers=v.jobs, thread_name_prefix="validate") as pool:
            source_future = pool.submit(security.source_scan, v, works, checkov_bin) if "security" in gates else None
            parity_future = pool.submit(static.run_parity, v, works) if "parity" in gates else None
            for future in [pool.submit(static.run_fmt, v, work) for work in works]:
                future.result()
            if not v.stop.is_set() and not pool.submit(static.validate_all, v, works).result():
                for future in [pool.submit(static.validate_each, v, work) for work in works]:
                    future.result()
            if "plan" in gates and not v.stop.is_set():
                planned_envs = [e for e in env_names if any(e in w.envs for w in works)]
                for future in [pool.submit(plans.plan_env, v, e, works) for e in planned_envs]:
                    future.result()
            if source_future is not None:
                source, waived = source_future.result()
            if parity_future is not None:
                parity_report, parity_findings = parity_future.result()
                for note in parity_report.notes:
                    progress.note(f"parity: {note}")
        found_security = source
        if "security" in gates and not v.stop.is_set():
            plan_findings, plan_waived, evaluated = security.plan_scan(v, works, checkov_bin)
            waived += plan_waived
            planned = {w.stack.name: list(w.plans) for w in works}
            found_security = [
                f
                for f in source
                if f.rule == "skip-without-reason" or not security.superseded(f, planned.get(f.stack, []), evaluated)
            ] + plan_findings
    findings = [f for w in works for f in w.findings] + v.env_findings + parity_findings + found_security
    costs: dict[str, EnvCost] = {}
    if catalog is not None:
        for env_name in env_names:
            planned = {w.stack.name: w.plans[env_name] for w in works if env_name in w.plans}
            if not planned:
                continue
            complete = set(planned) == set(manifest.stacks)
            costs[env_name] = pricing.estimate(
                catalog,
                loaded[env_name],
                {s: json.loads(p.read_text()) for s, p in planned.items()},
                complete,
                sources={s: v.stack_dir(Stack(name=s, spec=manifest.stacks[s])) for s in planned},
            )
            findings += pricing.findings(costs[env_name], catalog)
    findings = [place(v, f) for f in findings]
    report_cells = _cells(works, findings, costs, gates)
    return ValidationReport(
        envs=env_names,
        stacks=list(cells),
        cells=report_cells,
        findings=findings,
        waived=waived,
        costs=costs,
        duration_s=round(time.monotonic() - started, 1),
        jobs=v.jobs,
        changed_since=changed_since,
        timings=v.timings,
        parity=parity_report,
        finished_at=datetime.now(UTC),
    )


def _static_only(
    v: RunState, ctx: Context, gates: tuple[str, ...], env_names: list[str], changed_since: str, started: float
) -> ValidationReport:
    """A change touching only contracts or the other clouds' code: the parity check and the checkov source scan."""
    parity_report, findings = static.run_parity(v, []) if "parity" in gates else (None, [])
    for note in parity_report.notes if parity_report else []:
        v.progress.note(f"parity: {note}")
    waived: list[Waived] = []
    if "security" in gates:
        binary = checkov.find_binary(ctx.project.root, ctx.settings.checkov_bin, home=install_root())
        source, waived = security.source_scan(v, [], binary)
        findings += source
    return ValidationReport(
        envs=env_names,
        stacks=[],
        cells=[],
        findings=[place(v, f) for f in findings],
        waived=waived,
        costs={},
        duration_s=round(time.monotonic() - started, 1),
        jobs=v.jobs,
        changed_since=changed_since,
        timings=v.timings,
        parity=parity_report,
        finished_at=datetime.now(UTC),
    )


def _cells(
    works: list[StackWork], findings: list[Finding], costs: dict[str, EnvCost], gates: tuple[str, ...]
) -> list[Cell]:
    cells = []
    for work in works:
        for env in work.envs:
            status: dict[str, str] = {}
            for gate in GATES:
                if gate not in gates:
                    continue
                relevant = [
                    f for f in findings if f.gate == gate and f.stack == work.stack.name and f.env in (None, env)
                ] + [f for f in findings if f.gate == gate and f.stack == "*" and f.env == env]
                ran = (gate, None if gate in STATIC_GATES else env) in work.status or (
                    gate == "cost" and env in work.plans
                )
                status[gate] = "fail" if relevant else ("pass" if ran else "not-run")
            cost = costs.get(env)
            cells.append(
                Cell(
                    stack=work.stack.name,
                    env=env,
                    gates=status,  # type: ignore[arg-type]
                    monthly_usd=cost.stack_total(work.stack.name) if cost and env in work.plans else None,
                )
            )
    return cells


class _emulator:
    """The running emulator of this work folder, or one started for this run and stopped after it."""

    def __init__(self, ctx: Context, progress: Progress) -> None:
        self.dir = ctx.project.emulator_dir
        self.progress = progress
        self.started = False

    def __enter__(self) -> tuple[str, str]:
        state, self.started = emulator.start(self.dir)
        if self.started:
            self.progress.note(f"started the local AWS emulator for the plans: {state.url}")
        return state.url or "", state.ca_file or ""

    def __exit__(self, *exc: object) -> None:
        if self.started:
            emulator.stop(self.dir)
