"""plan / apply / bootstrap / destroy / output across the stack graph of one environment."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infractl.adapters import aws, files, terraform
from infractl.errors import UsageError
from infractl.models.runs import Progress, RunResult, StackResult
from infractl.models.stacks import Stack
from infractl.models.state import StateBackend
from infractl.services.context import Context
from infractl.services.stacks import graph, state
from infractl.services.stacks.executor import RECOVER_IMPORTS, Run, each, start
from infractl.services.stacks.workspace import Workspace

Confirm = Callable[[str], bool]


def _inputs_digest(ws: Workspace) -> str:
    return hashlib.sha256(ws.inputs_file.read_bytes()).hexdigest()


def _discard_plan(ws_dir: Path) -> None:
    (ws_dir / "plan.tfplan").unlink(missing_ok=True)
    (ws_dir / "plan.json").unlink(missing_ok=True)


def _plan_stack(run: Run, ws: Workspace, *, destroy: bool = False) -> terraform.PlanResult:
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


def _saved_plan(run: Run, ws: Workspace) -> terraform.PlanResult:
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


_CONFIRM_LOCK = threading.Lock()  # stacks run in parallel; questions are asked one at a time


def _confirm_changes(
    run: Run,
    stack: str,
    p: terraform.PlanResult,
    confirm: Confirm,
    *,
    verb: str = "Apply",
    keeping: list[str] | None = None,
) -> None:
    if verb == "Apply" and not run.env.approval.required:
        return
    destroyed = f" ({', '.join(p.destroyed[:5])}{' …' if len(p.destroyed) > 5 else ''})" if p.destroyed else ""
    kept = f", keeping {len(keeping)} that hold data under retention" if keeping else ""
    question = (
        f"{run.env.name}/{stack}: {p.add} to add, {p.change} to change, {p.destroy} to destroy{destroyed}{kept}."
        f" {verb}?"
    )
    with _CONFIRM_LOCK:
        if not confirm(question):
            raise UsageError(f"{run.env.name}/{stack}: not done: confirmation declined")


def _retained(run: Run, ws: Workspace, stack: Stack) -> tuple[list[str], list[str]]:
    """The state addresses under the stack's `retain_on_destroy` prefixes, when any S3 bucket among them holds
    objects (locked evidence cannot be deleted, backups and access logs are not deleted by a teardown); with the
    buckets that do. Empty when nothing must be kept."""
    if not stack.spec.retain_on_destroy:
        return [], []
    prefixes = stack.spec.retain_on_destroy
    resources = [
        r
        for r in ws.runner.state_resources()
        if any(
            r["address"] == p or r["address"].startswith(p + ".") or r["address"].startswith(p + "[") for p in prefixes
        )
    ]
    held = []
    for r in resources:
        if r.get("type") == "aws_s3_bucket" and r.get("mode") == "managed":
            bucket = r.get("values", {}).get("bucket")
            region = r.get("values", {}).get("region") or run.env.region
            target = run.ctx.aws_target(run.env.model_copy(update={"region": region}))
            if bucket and aws.bucket_has_objects(target, bucket):
                held.append(f"s3://{bucket}")
    if not held:
        return [], []
    return sorted({r["address"] for r in resources if r.get("mode") == "managed"}), held


def _apply_planned(run: Run, ws: Workspace, p: terraform.PlanResult) -> StackResult:
    run.progress.stack_started(ws.stack, "apply")
    run.appliers[ws.stack] = ws.runner
    try:
        digest = _plan_digest(ws)
        applied = ws.runner.apply(terraform.ApplyOptions(plan_file=ws.plan_file))
    finally:
        _discard_plan(ws.dir)  # applied, or stale once an apply began: never applied again
    (ws.dir / RECOVER_IMPORTS).unlink(missing_ok=True)  # what `state recover` found is imported now
    run.outputs[ws.stack] = ws.runner.output()
    return StackResult(
        stack=ws.stack,
        status="applied",
        add=applied.add,
        change=applied.change,
        destroy=applied.destroy,
        destroyed=p.destroyed,
        plan_sha256=digest,
    )


def _plan_digest(ws: Workspace) -> str:
    """The SHA-256 of the plan file about to be applied: the evidence entry of the command names it."""
    return hashlib.sha256(ws.plan_file.read_bytes()).hexdigest()


def plan(
    ctx: Context, env_name: str, progress: Progress, *, only: list[str] | None = None, parallelism: int = 4
) -> RunResult:
    """Plan every stack (or `only`), saving a plan file for each stack with changes."""
    run = start(ctx, env_name, progress, parallelism=parallelism)

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

    stacks = graph.select(run.manifest, run.env.cloud, only)
    # A plan run defines the set of saved plans: none from an earlier run survives to be applied by mistake.
    for stack in graph.select(run.manifest, run.env.cloud):
        _discard_plan(ctx.project.workspace(env_name, stack.name))
    results = each(run, stacks, body)
    return RunResult(env=env_name, operation="plan", emulated=ctx.emulate, stacks=results, interrupted=run.interrupted)


def apply(
    ctx: Context,
    env_name: str,
    progress: Progress,
    confirm: Confirm,
    *,
    only: list[str] | None = None,
    operation: str = "apply",
    target: state.Target | None = None,
    parallelism: int = 4,
) -> RunResult:
    """Apply in dependency order. Saved plans (from `infractl plan`) are applied exactly, and only they;
    without saved plans every stack is planned and applied."""
    run = start(ctx, env_name, progress, target=target, parallelism=parallelism)
    stacks = graph.select(run.manifest, run.env.cloud, only)
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

    results = each(run, stacks, body)
    return RunResult(
        env=env_name,
        operation=operation,  # type: ignore[arg-type]
        emulated=ctx.emulate,
        stacks=results,
        interrupted=run.interrupted,
    )


def destroy(
    ctx: Context,
    env_name: str,
    progress: Progress,
    confirm: Confirm,
    *,
    only: list[str] | None = None,
    parallelism: int = 4,
) -> RunResult:
    """Destroy stacks in reverse dependency order, each after a destroy plan and a confirmation. Resources a stack
    declares in `retain_on_destroy` are kept (removed from its state, not deleted) while they hold data: Object Lock
    retention forbids deleting locked evidence, and tenant backups outlive an environment's teardown."""
    run = start(ctx, env_name, progress, parallelism=parallelism)
    selected = graph.select(run.manifest, run.env.cloud, only)
    names = {s.name for s in selected}
    for stack in selected:
        kept = sorted(graph.dependents(run.manifest, stack.name) - names)
        if kept:
            raise UsageError(
                f"stack {', '.join(kept)} depends on {stack.name}: destroying {stack.name} alone would break it",
                hint=f"destroy the dependents too: infractl destroy {env_name} "
                + " ".join(f"--stack {n}" for n in sorted({*names, *kept})),
            )

    def body(stack: Stack) -> StackResult:
        ws = run.open(stack, strict_inputs=False)  # its upstream stacks may be gone already (a re-run)
        try:
            if not ws.runner.state_resources():
                return StackResult(stack=stack.name, status="up-to-date")  # nothing left to destroy
            if set(stack.spec.inputs) - set(json.loads(ws.inputs_file.read_text())):
                run.inputs(stack, strict=True)  # resources remain but an input is gone: raises, naming it
            retained, held = _retained(run, ws, stack)
            p = _plan_stack(run, ws, destroy=True)
            if not p.changes_present and not retained:
                return StackResult(stack=stack.name, status="up-to-date")
            _confirm_changes(run, stack.name, p, confirm, verb="Destroy", keeping=retained)
            if retained:
                run.progress.stack_started(stack.name, "keep retained data")
                ws.runner.state_rm(retained)  # kept in the cloud, released from this state
                p = _plan_stack(run, ws, destroy=True)
            applied, digest = terraform.ApplyResult(), None
            if p.changes_present:
                digest = _plan_digest(ws)
                run.progress.stack_started(stack.name, "destroy")
                run.appliers[stack.name] = ws.runner
                applied = ws.runner.apply(terraform.ApplyOptions(plan_file=ws.plan_file))
            return StackResult(
                stack=stack.name,
                status="destroyed",
                destroy=applied.destroy,
                destroyed=p.destroyed,
                retained=retained,
                plan_sha256=digest,
                hint=(
                    f"kept {len(retained)} resources holding data under retention: {', '.join(held)}"
                    f" (terraform/stacks/{stack.spec.path}/README.md: Destroy)"
                )
                if retained
                else None,
            )
        finally:
            _discard_plan(ws.dir)  # a destroy plan is never left behind for `apply`
            ws.release()

    results = each(run, list(reversed(selected)), body, reverse=True)
    return RunResult(
        env=env_name, operation="destroy", emulated=ctx.emulate, stacks=results, interrupted=run.interrupted
    )


def output(ctx: Context, env_name: str, stack_name: str, progress: Progress) -> dict[str, Any]:
    """A stack's outputs; sensitive values are redacted."""
    run = start(ctx, env_name, progress)
    if not graph.select(run.manifest, run.env.cloud, [stack_name]):
        raise UsageError(f"stack {stack_name} is not a {run.env.cloud} stack: environment {env_name} has none")
    ws = run.open(Stack(name=stack_name, spec=run.manifest.stacks[stack_name]), strict_inputs=False)
    try:
        raw = ws.runner.output()
        if not raw and not ws.runner.state_resources():
            emulate = " --emulate" if ctx.emulate else ""
            raise UsageError(
                f"stack {stack_name} is not applied in {env_name}: its state holds no resources and no outputs"
                " (never applied, or destroyed)",
                hint=f"apply it first: infractl apply {env_name} --stack {stack_name}{emulate}",
            )
    finally:
        ws.release()
    return {name: ("(sensitive)" if item.get("sensitive") else item.get("value")) for name, item in sorted(raw.items())}


def applied_outputs(
    ctx: Context, env_name: str, stack_names: list[str], progress: Progress
) -> dict[str, dict[str, Any]]:
    """The outputs of applied stacks, raw ({name: {value, sensitive, type}}), read from their state."""
    run = start(ctx, env_name, progress)
    for name in stack_names:
        if not graph.select(run.manifest, run.env.cloud, [name]):
            raise UsageError(f"stack {name} is not a {run.env.cloud} stack: environment {env_name} has none")
    return {name: run.outputs_of(name) for name in stack_names}


def unlock(ctx: Context, env_name: str, stack_name: str, lock_id: str, progress: Progress) -> None:
    """Release a stale state lock (terraform force-unlock)."""
    run = start(ctx, env_name, progress)
    stacks = graph.select(run.manifest, run.env.cloud, [stack_name])
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
    ctx: Context, env_name: str, progress: Progress, confirm: Confirm, *, parallelism: int = 4
) -> tuple[StateBackend, RunResult]:
    """The one-click: emulator (when emulating) -> state backend -> plan/apply every stack in order.
    Re-running changes nothing; after a failure, re-running continues from the failed stack."""
    progress.note(f"state backend for {env_name}")
    target = state.resolve(ctx, env_name, start_emulator=True)  # the env and its account, once for the command
    backend = state.bootstrap(ctx, env_name, target=target)
    progress.note(
        f"state: s3://{backend.bucket} ({backend.lock} lock)"
        f"{' created or updated' if backend.changed else ' up to date'}"
    )
    result = apply(ctx, env_name, progress, confirm, operation="bootstrap", target=target, parallelism=parallelism)
    return backend, result
