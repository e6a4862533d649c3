"""The per-env plans: for each env, one plan of all its valid stacks against the local emulator from an empty
state, in the generated root of planroot.py (the only caller of planroot's staging), split into one plan JSON per
stack; the tags gate (tagging.py) on each split plan. A stack whose errors break the plan is left out and the
others are planned again without it.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path
from typing import Any

from infractl.adapters import files, terraform
from infractl.adapters.emulator_accounts import account_access_key
from infractl.errors import InfractlError
from infractl.services.stacks.workspace import OVERRIDE_FILE, emulator_override, emulator_settings, hold_workspace
from infractl.services.validate.placement import diag_finding, locate, owners, tool_finding
from infractl.services.validate.planroot import (
    ALIASES_FILE,
    ROOT_DIR,
    aliases_override,
    aws_version,
    escape,
    example_inputs,
    lift_providers,
    split_plan,
)
from infractl.services.validate.runstate import RunState, StackWork, phases
from infractl.services.validate.tagging import tag_findings


def plan_env(v: RunState, env_name: str, works: list[StackWork]) -> None:
    """Plan one env's stacks; a failed command is an env-wide finding and fails the plan gate of its stacks."""
    try:
        _plan_env(v, env_name, works)
    except InfractlError as exc:
        finding = tool_finding(v, "*", "plan", exc, v.ctx.project.root).model_copy(update={"env": env_name})
        v.env_findings.append(finding)
        for work in works:
            if env_name in work.envs:
                work.status[("plan", env_name)] = "fail"


def _plan_env(v: RunState, env_name: str, works: list[StackWork]) -> None:
    pending = [w for w in works if w.valid and env_name in w.envs]
    if not pending or v.stop.is_set():
        return
    ws_dir = v.ws("envs", env_name)
    timings: dict[str, float] = {}
    with hold_workspace(ws_dir, f"validate/envs/{env_name}"):
        while pending and not v.stop.is_set():
            chdir = _stage(v, env_name, pending, ws_dir)
            label = (env_name, "+".join(w.stack.name for w in pending))
            runner = v.runner(ws_dir, chdir, label, f"plan {env_name}")
            v.progress.stack_started(f"plan {env_name}", f"{len(pending)} stack(s)")
            began = time.monotonic()
            failed = _plan(v, env_name, pending, runner, ws_dir, chdir)
            timings["plan+show"] = round(timings.get("plan+show", 0.0) + time.monotonic() - began, 2)
            if not failed:
                break
            v.failed()
            pending = [w for w in pending if w not in failed]  # plan the others again, without them
    v.timings[f"plan {env_name}"] = timings
    v.progress.note(f"plan {env_name}: done ({phases(timings)})")


def _stage(v: RunState, env_name: str, pending: list[StackWork], ws_dir: Path) -> Path:
    """The generated root: every pending stack as a module with the env's inputs, and the lifted provider
    configurations, one per distinct rendered block."""
    env = v.envs[env_name]
    shared: dict[str, tuple[str, str]] = {}  # normalized body -> (root alias, body)
    staging: dict[str, terraform.StagedStack] = {}
    calls: dict[str, dict[str, Any]] = {}
    bare = False  # a stack declares no aws provider block: it inherits the root's default configuration
    for work in pending:
        stack_dir = v.stack_dir(work.stack)
        inputs = example_inputs(work.stack, env, v.manifest, display=v.display)
        lifted = lift_providers(stack_dir, inputs)
        call: dict[str, Any] = {}
        if lifted is not None:
            mapping = {}
            for alias, body in lifted.blocks:
                key = " ".join(body.split())
                root_alias = shared.setdefault(key, (f"p{len(shared) + 1}", body))[0]
                mapping["aws" if alias is None else f"aws.{alias}"] = f"aws.{root_alias}"
            aliases = [a for a, _ in lifted.blocks if a]
            generated = {ALIASES_FILE: aliases_override(aliases, aws_version(stack_dir))} if aliases else {}
            staging[work.stack.spec.path] = terraform.StagedStack(generated=generated, exclude=lifted.files)
            call["providers"] = mapping
        else:  # the stack keeps its own provider configurations, pointed at the emulator
            own = terraform.provider_aliases(stack_dir, "aws")
            key = account_access_key(env.account)  # the env's own account (emulator patch iam.py)
            override = {OVERRIDE_FILE: emulator_override(own, v.emulator_url, key)} if own else {}
            bare = bare or not own
            staging[work.stack.spec.path] = terraform.StagedStack(generated=override)
        calls[work.stack.name] = {**call, **escape(inputs)}
    staged = terraform.stage_tree(v.ctx.project.terraform_dir, ws_dir / "src", staging)
    root = ws_dir / "src" / ROOT_DIR
    root.mkdir()
    for work in pending:
        source = os.path.relpath(staged[work.stack.spec.path], root)
        calls[work.stack.name] = {"source": source, **calls[work.stack.name]}
    settings = emulator_settings(v.emulator_url, account_access_key(env.account))
    providers = "".join(
        f'provider "aws" {{\n  alias = "{alias}"\n{textwrap.indent(body, "  ")}\n\n{settings}}}\n\n'
        for alias, body in shared.values()
    )
    # the default configuration, which a stack declaring no aws provider block inherits: emulated too
    default = f'provider "aws" {{\n  region = "{env.region}"\n{settings}}}\n\n' if bare else ""
    header = "# Generated by infractl validate: the stacks' provider blocks, rendered for this env.\n\n"
    files.write_private(root / "providers.tf", header + default + providers)
    files.write_private(root / "main.tf.json", json.dumps({"module": calls}, indent=1))
    return root


def _plan(
    v: RunState, env_name: str, pending: list[StackWork], runner: terraform.Runner, ws_dir: Path, chdir: Path
) -> list[StackWork]:
    """Plan, split per stack and check the tags. Returns the stacks the plan's errors belong to (every pending one
    when the errors name none)."""
    plan_file = ws_dir / "plan.tfplan"
    try:
        with v.init_lock:
            runner.init(backend=False)
        runner.plan(terraform.PlanOptions(out=plan_file, refresh=False))
        doc = runner.show_plan(plan_file)
    except InfractlError as exc:
        return _plan_failed(v, env_name, pending, runner, exc, chdir)
    for work in pending:
        plan = split_plan(doc, work.stack.name)
        path = ws_dir / f"{work.stack.name}.plan.json"
        files.write_private(path, json.dumps(plan, indent=1))
        work.plans[env_name] = path
        work.status[("plan", env_name)] = "pass"
        if "tags" in v.gates:
            tag_problems = tag_findings(plan, v.envs[env_name], work.stack.name)
            work.findings += [locate(v, work.stack, f) for f in tag_problems]
            work.status[("tags", env_name)] = "fail" if tag_problems else "pass"
    return []


def _plan_failed(
    v: RunState, env_name: str, pending: list[StackWork], runner: terraform.Runner, exc: InfractlError, chdir: Path
) -> list[StackWork]:
    diags = [d for d in runner.diagnostics if d.get("severity") == "error"]
    failed: dict[str, StackWork] = {}
    unattributed = []
    for diag in diags:
        stacks = owners(v, diag, pending, chdir)
        if not stacks:
            unattributed.append(diag)
        for work in stacks:
            failed[work.stack.name] = work
            work.findings.append(diag_finding(v, work.stack.name, "plan", diag, env_name, chdir))
    if unattributed or not diags:
        with v.lock:
            if diags:
                v.env_findings += [diag_finding(v, "*", "plan", d, env_name, chdir) for d in unattributed]
            else:
                v.env_findings.append(tool_finding(v, "*", "plan", exc, chdir).model_copy(update={"env": env_name}))
        failed = {w.stack.name: w for w in pending}
    for work in failed.values():
        work.status[("plan", env_name)] = "fail"
    return list(failed.values())
