"""The run of one command across the stack graph: what its stacks share (`Run`: env, backend, upstream outputs,
progress) and `each`, which runs a body for every stack in dependency order, independent ones in parallel, and
turns failures and interrupts into per-stack results (interrupts.py)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from infractl.adapters import terraform
from infractl.errors import InfractlError
from infractl.models.environment import Environment
from infractl.models.runs import Progress, StackResult
from infractl.models.stacks import Manifest, Stack
from infractl.models.state import StateBackend
from infractl.services.context import Context
from infractl.services.stacks import graph, interrupts, state
from infractl.services.stacks.workspace import Workspace, open_workspace, resolve_inputs

# Import blocks `infractl state recover --write` left in a stack's workspace (recover.py), and their staged name.
RECOVER_IMPORTS = "recover-imports.tf"
RECOVER_STAGED = "zz_infractl_recover_imports.tf"


@dataclass
class Run:
    """What one command shares across its stacks."""

    ctx: Context
    env: Environment
    manifest: Manifest
    backend: StateBackend
    progress: Progress
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    parallelism: int = 4
    interrupted: bool = False  # an interrupt stopped the run
    # the runner of each stack that applies: it counts what Terraform did as it goes (`Runner.applied`), which a
    # failed or stopped stack reports
    appliers: dict[str, terraform.Runner] = field(default_factory=dict)
    # `terraform init` of parallel stacks shares one plugin cache, which Terraform does not lock: one at a time.
    _init_lock: threading.Lock = field(default_factory=threading.Lock)
    _output_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)

    def inputs(self, stack: Stack, *, strict: bool = True) -> dict[str, Any]:
        """The stack's Terraform variables (not strict: upstream outputs that no longer exist are left out)."""
        upstream = {dep: self.outputs_of(dep) for dep in stack.spec.depends_on}
        return resolve_inputs(
            stack,
            self.env.model_copy(update={"account": self.backend.account}),
            upstream,
            manifest_display=self.ctx.project.rel(self.ctx.project.manifest_path),
            backend=self.backend,
            strict=strict,
        )

    def open(self, stack: Stack, *, strict_inputs: bool = True) -> Workspace:
        ws = open_workspace(
            self.ctx,
            self.env,
            stack,
            self.backend,
            self.inputs(stack, strict=strict_inputs),
            on_event=lambda e: self.progress.stack_event(stack.name, e),
        )
        try:
            recovered = ws.dir / RECOVER_IMPORTS
            if recovered.is_file():
                shutil.copyfile(recovered, ws.runner.chdir / RECOVER_STAGED)
            self.progress.stack_started(stack.name, "init")
            with self._init_lock:
                ws.runner.init(backend_config=ws.backend_file)
        except BaseException:
            ws.release()
            raise
        return ws

    def outputs_of(self, name: str) -> dict[str, Any]:
        """An upstream stack's outputs: from this run when it ran, else read from its state (once)."""
        with self._locks_guard:
            lock = self._output_locks.setdefault(name, threading.Lock())
        with lock:  # two dependents asking at once must not open the same workspace twice
            if name not in self.outputs:
                # reading outputs needs no variables: upstream stacks of this one may be gone already
                ws = self.open(Stack(name=name, spec=self.manifest.stacks[name]), strict_inputs=False)
                try:
                    self.outputs[name] = ws.runner.output()
                finally:
                    ws.release()
            return self.outputs[name]


def start(
    ctx: Context, env_name: str, progress: Progress, *, target: state.Target | None = None, parallelism: int = 4
) -> Run:
    """What a run needs, resolved once: the env and its account (unless the caller resolved them), the manifest."""
    target = target or state.resolve(ctx, env_name)
    manifest = graph.load_manifest(ctx.project)
    backend = state.describe(target.env, target.account, emulated=ctx.emulate)
    return Run(ctx, target.env, manifest, backend, progress, parallelism=max(1, parallelism))


def each(
    run: Run, stacks: list[Stack], body: Callable[[Stack], StackResult], *, reverse: bool = False
) -> list[StackResult]:
    """Run body for every stack once the stacks it waits for are done: its dependencies (or, with reverse, its
    dependents), among `stacks`. Independent stacks run in parallel, at most run.parallelism at once. After a
    failure nothing new starts (running stacks finish); the rest are reported as not reached."""
    names = {s.name for s in stacks}
    waits_for = {
        s.name: ({o.name for o in stacks if s.name in o.spec.depends_on} if reverse else set(s.spec.depends_on) & names)
        for s in stacks
    }
    by_name = {s.name: s for s in stacks}
    results: dict[str, StackResult] = {}
    running: dict[Future[StackResult], tuple[str, float]] = {}
    failed = False

    def applied(stack: Stack) -> terraform.ApplyResult:
        runner = run.appliers.get(stack.name)
        return runner.applied if runner is not None else terraform.ApplyResult()

    def timed(stack: Stack) -> StackResult:
        try:
            return body(stack)
        except InfractlError as exc:
            done = applied(stack)
            return StackResult(
                stack=stack.name,
                status="failed",
                add=done.add,
                change=done.change,
                destroy=done.destroy,
                error=exc.message,
                error_details=exc.details,
                hint=exc.hint,
                exit_code=int(exc.exit_code),
            )
        except interrupts.Interrupted as exc:
            done = applied(stack)
            return interrupts.stopped(
                run.env.name if run.env else "ENV",
                stack.name,
                exc,
                emulate=bool(run.ctx and run.ctx.emulate),
                add=done.add,
                change=done.change,
                destroy=done.destroy,
            )

    def collect(future: Future[StackResult]) -> StackResult:
        name, began = running.pop(future)
        result = future.result()
        result.duration_s = round(time.monotonic() - began, 1)
        results[name] = result
        run.progress.stack_finished(result)
        return result

    with (
        interrupts.sigterm_as_interrupt(),
        ThreadPoolExecutor(max_workers=run.parallelism, thread_name_prefix="stack") as pool,
    ):
        try:
            while True:
                started = {n for n, _ in running.values()}
                if not failed:
                    for stack in stacks:  # stacks is in dependency order: a stable start order
                        n = stack.name
                        if n in results or n in started or len(running) >= run.parallelism:
                            continue
                        if waits_for[n] <= results.keys():
                            running[pool.submit(timed, by_name[n])] = (n, time.monotonic())
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    failed = collect(future).status == "failed" or failed
        except KeyboardInterrupt:
            # SIGINT reaches this (main) thread only: pass it on to the Terraform processes of the running stacks,
            # then let their threads unwind (releasing their workspaces) and report every stack.
            run.interrupted = True
            try:
                interrupts.stop(run.progress, sorted(n for n, _ in running.values()))
                for future in list(running):
                    if future.cancel():  # submitted, never started
                        running.pop(future)
                    else:
                        wait([future])
                        collect(future)
            finally:
                interrupts.resume()
        except BaseException:
            for future in running:
                future.cancel()
            raise
    ordered = []
    for stack in stacks:
        if stack.name not in results:
            results[stack.name] = StackResult(
                stack=stack.name, status="not-started" if run.interrupted else "not-reached"
            )
            run.progress.stack_finished(results[stack.name])
        ordered.append(results[stack.name])
    return ordered
