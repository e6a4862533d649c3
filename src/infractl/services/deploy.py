"""plan / apply / bootstrap / destroy / output across the stack graph of one environment."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infractl.adapters import terraform
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
        inputs = resolve_inputs(stack, env, upstream, manifest_display=self.ctx.project.rel(
            self.ctx.project.manifest_path))
        ws = open_workspace(self.ctx, self.env, stack, self.backend, inputs,
                            on_event=lambda e: self.progress.stack_event(stack.name, e))
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
            result = StackResult(stack=stack.name, status="failed", error=exc.message, error_details=exc.details,
                                 hint=exc.hint, exit_code=int(exc.exit_code))
        result.duration_s = round(time.monotonic() - began, 1)
        results.append(result)
        run.progress.stack_finished(result)
    return results


def _plan_stack(run: _Run, ws: Workspace, *, destroy: bool = False) -> terraform.PlanResult:
    run.progress.stack_started(ws.stack, "plan")
    ws.plan_file.unlink(missing_ok=True)
    ws.plan_meta.unlink(missing_ok=True)
    result = ws.runner.plan(terraform.PlanOptions(var_files=[ws.inputs_file], out=ws.plan_file, destroy=destroy))
    if result.changes_present:
        ws.plan_file.chmod(0o600)  # a plan holds every input value, sensitive ones included
        ws.plan_meta.write_text(json.dumps({
            "emulated": run.ctx.emulate, "destroy": destroy,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }))
    else:
        ws.plan_file.unlink(missing_ok=True)
    return result


def _confirm_changes(run: _Run, stack: str, p: terraform.PlanResult, confirm: Confirm, *, always: bool) -> None:
    if not (always or run.env.approval.required):
        return
    destroyed = f" ({', '.join(p.destroyed[:5])}{' …' if len(p.destroyed) > 5 else ''})" if p.destroyed else ""
    question = (f"{run.env.name}/{stack}: {p.add} to add, {p.change} to change, {p.destroy} to destroy"
                f"{destroyed}. Apply?")
    if not confirm(question):
        raise UsageError(f"{run.env.name}/{stack}: not applied: confirmation declined")


def _apply_planned(run: _Run, ws: Workspace, p: terraform.PlanResult) -> StackResult:
    run.progress.stack_started(ws.stack, "apply")
    applied = ws.runner.apply(terraform.ApplyOptions(plan_file=ws.plan_file))
    ws.plan_file.unlink(missing_ok=True)
    ws.plan_meta.unlink(missing_ok=True)
    run.outputs[ws.stack] = ws.runner.output()
    return StackResult(stack=ws.stack, status="applied", add=applied.add, change=applied.change,
                       destroy=applied.destroy, destroyed=p.destroyed)


def plan(ctx: Context, env_name: str, progress: Progress, *, only: list[str] | None = None) -> RunResult:
    """Plan every stack (or `only`), saving a plan file for each stack with changes."""
    run = _start(ctx, env_name, progress)

    def body(stack: Stack) -> StackResult:
        ws = run.open(stack)
        try:
            p = _plan_stack(run, ws)
        finally:
            ws.release()
        return StackResult(stack=stack.name, status="changes" if p.changes_present else "up-to-date", add=p.add,
                           change=p.change, destroy=p.destroy, destroyed=p.destroyed, plan_file=p.plan_file)

    stacks = stackgraph.select(run.manifest, run.env.cloud, only)
    return RunResult(env=env_name, operation="plan", emulated=ctx.emulate, stacks=_each(run, stacks, body))


def apply(ctx: Context, env_name: str, progress: Progress, confirm: Confirm, *, only: list[str] | None = None,
          operation: str = "apply", start_emulator: bool = False) -> RunResult:
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
                meta = json.loads(ws.plan_meta.read_text()) if ws.plan_meta.is_file() else {}
                if meta.get("emulated") != ctx.emulate or meta.get("destroy"):
                    raise UsageError(
                        f"the saved plan of {env_name}/{stack.name} was made for"
                        f" {'the emulator' if meta.get('emulated') else 'the cloud'}"
                        f"{' as a destroy' if meta.get('destroy') else ''}",
                        hint=f"plan again: infractl plan {env_name}{' --emulate' if ctx.emulate else ''}",
                    )
                p = terraform.PlanResult(changes_present=True)
            else:
                p = _plan_stack(run, ws)
                if not p.changes_present:
                    run.outputs[stack.name] = ws.runner.output()
                    return StackResult(stack=stack.name, status="up-to-date")
            _confirm_changes(run, stack.name, p, confirm, always=False)
            return _apply_planned(run, ws, p)
        finally:
            ws.release()

    return RunResult(env=env_name, operation=operation, emulated=ctx.emulate,  # type: ignore[arg-type]
                     stacks=_each(run, stacks, body))


def destroy(ctx: Context, env_name: str, progress: Progress, confirm: Confirm, *,
            only: list[str] | None = None) -> RunResult:
    """Destroy stacks in reverse dependency order, each after a destroy plan and a confirmation."""
    run = _start(ctx, env_name, progress)
    stacks = list(reversed(stackgraph.select(run.manifest, run.env.cloud, only)))

    def body(stack: Stack) -> StackResult:
        ws = run.open(stack)
        try:
            p = _plan_stack(run, ws, destroy=True)
            if not p.changes_present:
                return StackResult(stack=stack.name, status="up-to-date")
            _confirm_changes(run, stack.name, p, confirm, always=True)
            run.progress.stack_started(stack.name, "destroy")
            applied = ws.runner.apply(terraform.ApplyOptions(plan_file=ws.plan_file))
            ws.plan_file.unlink(missing_ok=True)
            ws.plan_meta.unlink(missing_ok=True)
            return StackResult(stack=stack.name, status="destroyed", destroy=applied.destroy, destroyed=p.destroyed)
        finally:
            ws.release()

    return RunResult(env=env_name, operation="destroy", emulated=ctx.emulate, stacks=_each(run, stacks, body))


def output(ctx: Context, env_name: str, stack_name: str, progress: Progress) -> dict[str, Any]:
    """A stack's outputs; sensitive values are redacted."""
    run = _start(ctx, env_name, progress)
    stackgraph.select(run.manifest, run.env.cloud, [stack_name])
    raw = run.outputs_of(stack_name)
    return {
        name: ("(sensitive)" if item.get("sensitive") else item.get("value")) for name, item in sorted(raw.items())
    }


def unlock(ctx: Context, env_name: str, stack_name: str, lock_id: str, progress: Progress) -> None:
    """Release a stale state lock (terraform force-unlock)."""
    run = _start(ctx, env_name, progress)
    stack = stackgraph.select(run.manifest, run.env.cloud, [stack_name])[0]
    ws = run.open(stack)
    try:
        ws.runner.force_unlock(lock_id)
    finally:
        ws.release()


def bootstrap(ctx: Context, env_name: str, progress: Progress, confirm: Confirm) -> tuple[state.StateBackend, RunResult]:
    """The one-click: emulator (when emulating) -> state backend -> plan/apply every stack in order.
    Re-running changes nothing; after a failure, re-running continues from the failed stack."""
    progress.note(f"state backend for {env_name}")
    backend = state.bootstrap(ctx, env_name)
    progress.note(f"state: s3://{backend.bucket} ({backend.lock} lock)"
                  f"{' created or updated' if backend.changed else ' up to date'}")
    result = apply(ctx, env_name, progress, confirm, operation="bootstrap")
    return backend, result
