"""plan / apply / bootstrap / destroy / output across the stack graph of one environment."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infractl.adapters import files, terraform
from infractl.errors import InfractlError, UsageError
from infractl.models.environment import Environment
from infractl.models.runs import Progress, RunResult, StackResult
from infractl.models.stacks import Manifest, Stack
from infractl.services import environments, stackgraph, state
from infractl.services.context import Context
from infractl.services.workspace import Workspace, open_workspace, resolve_inputs

Confirm = Callable[[str], bool]


@dataclass
class _Run:
    """What one command shares across its stacks."""

    ctx: Context
    env: Environment
    manifest: Manifest
    backend: state.StateBackend
    progress: Progress
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def open(self, stack: Stack) -> Workspace:
        upstream = {dep: self.outputs_of(dep) for dep in stack.spec.depends_on}
        env = self.env.model_copy(update={"account": self.backend.account})
        inputs = resolve_inputs(
            stack, env, upstream, manifest_display=self.ctx.project.rel(self.ctx.project.manifest_path)
        )
        ws = open_workspace(
            self.ctx,
            self.env,
            stack,
            self.backend,
            inputs,
            on_event=lambda e: self.progress.stack_event(stack.name, e),
        )
        try:
            self.progress.stack_started(stack.name, "init")
            ws.runner.init(backend_config=ws.backend_file)
        except BaseException:
            ws.release()
            raise
        return ws

    def outputs_of(self, name: str) -> dict[str, Any]:
        if name not in self.outputs:
            ws = self.open(Stack(name=name, spec=self.manifest.stacks[name]))
            try:
                self.outputs[name] = ws.runner.output()
            finally:
                ws.release()
        return self.outputs[name]


def _start(ctx: Context, env_name: str, progress: Progress, *, start_emulator: bool = False) -> _Run:
    env = environments.load(ctx.project, env_name)
    manifest = stackgraph.load_manifest(ctx.project)
    target = ctx.aws_target(env, start_emulator=start_emulator)
    account = state.effective_account(ctx, env, target)
    backend = state.describe(env, account, emulated=ctx.emulate)
    return _Run(ctx, env, manifest, backend, progress)


def _each(run: _Run, stacks: list[Stack], body: Callable[[Stack], StackResult]) -> list[StackResult]:
    """Run body per stack in order; after a failure the rest are not reached."""
    results: list[StackResult] = []
    failed = False
    for stack in stacks:
        if failed:
            results.append(StackResult(stack=stack.name, status="not-reached"))
            run.progress.stack_finished(results[-1])
            continue
        began = time.monotonic()
        try:
            result = body(stack)
        except InfractlError as exc:
            failed = True
            result = StackResult(
                stack=stack.name,
                status="failed",
                error=exc.message,
                error_details=exc.details,
                hint=exc.hint,
                exit_code=int(exc.exit_code),
            )
        result.duration_s = round(time.monotonic() - began, 1)
        results.append(result)
        run.progress.stack_finished(result)
    return results


def _inputs_digest(ws: Workspace) -> str:
    return hashlib.sha256(ws.inputs_file.read_bytes()).hexdigest()


def _discard_plan(ws_dir: Path) -> None:
    (ws_dir / "plan.tfplan").unlink(missing_ok=True)
    (ws_dir / "plan.json").unlink(missing_ok=True)


def _plan_stack(run: _Run, ws: Workspace, *, destroy: bool = False) -> terraform.PlanResult:
    run.progress.stack_started(ws.stack, "plan")
    _discard_plan(ws.dir)
    result = ws.runner.plan(terraform.PlanOptions(var_files=[ws.inputs_file], out=ws.plan_file, destroy=destroy))
    if result.changes_present:
        ws.plan_file.chmod(0o600)  # a plan holds every input value, sensitive ones included
        files.write_json(
            ws.plan_meta,
            {
                "emulated": run.ctx.emulate,
                "destroy": destroy,
                "inputs_sha256": _inputs_digest(ws),
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "add": result.add,
                "change": result.change,
                "remove": result.destroy,
                "destroyed": result.destroyed,
            },
        )
    else:
        _discard_plan(ws.dir)
    return result


def _saved_plan(run: _Run, ws: Workspace) -> terraform.PlanResult:
    """The saved plan of a stack, checked against this run: same target, not a destroy, same inputs."""
    env_name, ctx = run.env.name, run.ctx
    meta = json.loads(ws.plan_meta.read_text()) if ws.plan_meta.is_file() else {}
    again = f"plan again: infractl plan {env_name}{' --emulate' if ctx.emulate else ''}"
    if meta.get("emulated") != ctx.emulate or meta.get("destroy"):
        raise UsageError(
            f"the saved plan of {env_name}/{ws.stack} was made for"
            f" {'the emulator' if meta.get('emulated') else 'the cloud'}"
            f"{' as a destroy' if meta.get('destroy') else ''}",
            hint=again,
        )
    if meta.get("inputs_sha256") != _inputs_digest(ws):
        raise UsageError(
            f"the inputs of {env_name}/{ws.stack} changed since its plan was saved"
            " (environment file or upstream outputs)",
            hint=again,
        )
    return terraform.PlanResult(
        changes_present=True,
        add=meta.get("add", 0),
        change=meta.get("change", 0),
        destroy=meta.get("remove", 0),
        destroyed=meta.get("destroyed", []),
        plan_file=str(ws.plan_file),
    )


def _confirm_changes(run: _Run, stack: str, p: terraform.PlanResult, confirm: Confirm, *, verb: str = "Apply") -> None:
    if verb == "Apply" and not run.env.approval.required:
        return
    destroyed = f" ({', '.join(p.destroyed[:5])}{' …' if len(p.destroyed) > 5 else ''})" if p.destroyed else ""
    question = (
        f"{run.env.name}/{stack}: {p.add} to add, {p.change} to change, {p.destroy} to destroy{destroyed}. {verb}?"
    )
    if not confirm(question):
        raise UsageError(f"{run.env.name}/{stack}: not done: confirmation declined")


def _apply_planned(run: _Run, ws: Workspace, p: terraform.PlanResult) -> StackResult:
    run.progress.stack_started(ws.stack, "apply")
    applied = ws.runner.apply(terraform.ApplyOptions(plan_file=ws.plan_file))
    _discard_plan(ws.dir)
    run.outputs[ws.stack] = ws.runner.output()
    return StackResult(
        stack=ws.stack,
        status="applied",
        add=applied.add,
        change=applied.change,
        destroy=applied.destroy,
        destroyed=p.destroyed,
    )


def plan(ctx: Context, env_name: str, progress: Progress, *, only: list[str] | None = None) -> RunResult:
    """Plan every stack (or `only`), saving a plan file for each stack with changes."""
    run = _start(ctx, env_name, progress)

    def body(stack: Stack) -> StackResult:
        ws = run.open(stack)
        try:
            p = _plan_stack(run, ws)
        finally:
            ws.release()
        return StackResult(
            stack=stack.name,
            status="changes" if p.changes_present else "up-to-date",
            add=p.add,
            change=p.change,
            destroy=p.destroy,
            destroyed=p.destroyed,
            plan_file=p.plan_file,
        )

    stacks = stackgraph.select(run.manifest, run.env.cloud, only)
    # A plan run defines the set of saved plans: none from an earlier run survives to be applied by mistake.
    for stack in stackgraph.select(run.manifest, run.env.cloud):
        _discard_plan(ctx.project.workspace(env_name, stack.name))
    return RunResult(env=env_name, operation="plan", emulated=ctx.emulate, stacks=_each(run, stacks, body))


def apply(
    ctx: Context,
    env_name: str,
    progress: Progress,
    confirm: Confirm,
    *,
    only: list[str] | None = None,
    operation: str = "apply",
    start_emulator: bool = False,
) -> RunResult:
    """Apply in dependency order. Saved plans (from `infractl plan`) are applied exactly, and only they;
    without saved plans every stack is planned and applied."""
    run = _start(ctx, env_name, progress, start_emulator=start_emulator)
    stacks = stackgraph.select(run.manifest, run.env.cloud, only)
    saved = {s.name for s in stacks if ctx.project.workspace(env_name, s.name).joinpath("plan.tfplan").is_file()}
    if operation == "apply" and saved:
        stacks = [s for s in stacks if s.name in saved]

    def body(stack: Stack) -> StackResult:
        ws = run.open(stack)
        try:
            if stack.name in saved and operation == "apply":
                p = _saved_plan(run, ws)
            else:
                p = _plan_stack(run, ws)
                if not p.changes_present:
                    run.outputs[stack.name] = ws.runner.output()
                    return StackResult(stack=stack.name, status="up-to-date")
            _confirm_changes(run, stack.name, p, confirm)
            return _apply_planned(run, ws, p)
        finally:
            ws.release()

    return RunResult(
        env=env_name,
        operation=operation,
        emulated=ctx.emulate,  # type: ignore[arg-type]
        stacks=_each(run, stacks, body),
    )


def destroy(
    ctx: Context, env_name: str, progress: Progress, confirm: Confirm, *, only: list[str] | None = None
) -> RunResult:
    """Destroy stacks in reverse dependency order, each after a destroy plan and a confirmation."""
    run = _start(ctx, env_name, progress)
    selected = stackgraph.select(run.manifest, run.env.cloud, only)
    names = {s.name for s in selected}
    for stack in selected:
        kept = sorted(stackgraph.dependents(run.manifest, stack.name) - names)
        if kept:
            raise UsageError(
                f"stack {', '.join(kept)} depends on {stack.name}: destroying {stack.name} alone would break it",
                hint=f"destroy the dependents too: infractl destroy {env_name} "
                + " ".join(f"--stack {n}" for n in sorted({*names, *kept})),
            )

    def body(stack: Stack) -> StackResult:
        ws = run.open(stack)
        try:
            p = _plan_stack(run, ws, destroy=True)
            if not p.changes_present:
                return StackResult(stack=stack.name, status="up-to-date")
            _confirm_changes(run, stack.name, p, confirm, verb="Destroy")
            run.progress.stack_started(stack.name, "destroy")
            applied = ws.runner.apply(terraform.ApplyOptions(plan_file=ws.plan_file))
            return StackResult(stack=stack.name, status="destroyed", destroy=applied.destroy, destroyed=p.destroyed)
        finally:
            _discard_plan(ws.dir)  # a destroy plan is never left behind for `apply`
            ws.release()

    return RunResult(
        env=env_name,
        operation="destroy",
        emulated=ctx.emulate,
        stacks=_each(run, list(reversed(selected)), body),
    )


def output(ctx: Context, env_name: str, stack_name: str, progress: Progress) -> dict[str, Any]:
    """A stack's outputs; sensitive values are redacted."""
    run = _start(ctx, env_name, progress)
    if not stackgraph.select(run.manifest, run.env.cloud, [stack_name]):
        raise UsageError(f"stack {stack_name} is not a {run.env.cloud} stack: environment {env_name} has none")
    raw = run.outputs_of(stack_name)
    return {name: ("(sensitive)" if item.get("sensitive") else item.get("value")) for name, item in sorted(raw.items())}


def unlock(ctx: Context, env_name: str, stack_name: str, lock_id: str, progress: Progress) -> None:
    """Release a stale state lock (terraform force-unlock)."""
    run = _start(ctx, env_name, progress)
    stacks = stackgraph.select(run.manifest, run.env.cloud, [stack_name])
    if not stacks:
        raise UsageError(
            f"stack {stack_name} is not a {run.env.cloud} stack, so environment {env_name} has no state for it"
        )
    ws = run.open(stacks[0])
    try:
        ws.runner.force_unlock(lock_id)
    finally:
        ws.release()


def bootstrap(
    ctx: Context, env_name: str, progress: Progress, confirm: Confirm
) -> tuple[state.StateBackend, RunResult]:
    """The one-click: emulator (when emulating) -> state backend -> plan/apply every stack in order.
    Re-running changes nothing; after a failure, re-running continues from the failed stack."""
    progress.note(f"state backend for {env_name}")
    backend = state.bootstrap(ctx, env_name)
    progress.note(
        f"state: s3://{backend.bucket} ({backend.lock} lock)"
        f"{' created or updated' if backend.changed else ' up to date'}"
    )
    result = apply(ctx, env_name, progress, confirm, operation="bootstrap")
    return backend, result
