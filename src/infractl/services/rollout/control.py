"""`infractl rollout status|abort|promote` (docs/delivery.md#operating): read the state and the proxy's live weights,
end an interrupted rollout either way. A rollout still driven by its process is aborted through it (SIGTERM: it rolls
back itself), never behind its back."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from infractl.adapters import localservices as ls
from infractl.errors import ExternalToolError, InfractlError, UsageError
from infractl.models.project import Project
from infractl.models.rollout import RolloutState, RolloutStatus
from infractl.services.rollout import store
from infractl.services.rollout.endpoint import CANARY, PROXY, opened, peek
from infractl.services.rollout.rollback import back_to_stable, finish_success

ABORT_WAIT_S = 90.0


def status(work_dir: Path, project: Project, env: str) -> RolloutStatus:
    _dev_only(env)
    stack = peek(work_dir, project.root)
    state = store.load(stack.directory) if stack else None
    live: dict[str, int] | None = None
    canary_up = False
    if stack is not None and stack.has(PROXY) and ls.is_healthy(stack.service(PROXY)):
        try:
            live = stack.runtime().weights()
        except InfractlError:
            live = None
    if stack is not None and stack.has(CANARY):
        canary_up = bool(ls.survivors(stack.service(CANARY)))
    return RolloutStatus(
        state=state,
        live_weights=live,
        canary_running=canary_up,
        explanation=_explain(state, live, canary_up),
        next=_next(state, env),
    )


def _explain(state: RolloutState | None, live: dict[str, int] | None, canary_up: bool) -> str:
    if state is None:
        return "no rollout has run on this dev stack"
    weights = live if live is not None else state.weights
    where = f"stable {weights.get('stable', '?')} %, canary {weights.get('canary', '?')} %"
    if state.status == "running":
        return f"rolling out {state.release} (pid {state.pid}): {where}"
    if state.status == "interrupted":
        step = next((s.weight for s in reversed(state.history)), None)
        return (
            f"the rollout of {state.release} was interrupted at step {step} %: the traffic stays {where}"
            f" ({'the canary still serves' if canary_up else 'the canary is gone'})"
        )
    if state.status == "succeeded":
        return f"{state.release} is stable ({where})"
    return f"{state.release} {state.status}: {state.reason}; traffic {where}"


def _next(state: RolloutState | None, env: str) -> list[str]:
    if state is None or state.final:
        return []
    if state.status == "running":
        return [f"infractl rollout abort {env}  # roll back now"]
    return [
        f"infractl rollout {env} --release {state.release}  # resume from the interrupted step",
        f"infractl rollout abort {env}  # all traffic back to {state.stable}",
        f"infractl rollout promote {env}  # skip the remaining analysis: {state.release} becomes stable",
    ]


def abort(work_dir: Path, project: Project, env: str) -> RolloutState:
    _dev_only(env)
    state = _open_rollout(work_dir, project, "abort")
    if state.promoting:
        raise UsageError(
            f"the rollout of {state.release} is promoting, or stopped while promoting: the stable api is restarted"
            " as it, so the traffic stays on the canary",
            hint=f"finish it: infractl rollout promote {env}",
        )
    signalled = False
    if state.status == "running" and state.pid and state.pid != os.getpid():
        try:
            os.kill(state.pid, signal.SIGTERM)  # its handler rolls back and marks the state aborted
            signalled = True
        except OSError:  # gone since the state was read: roll back here
            pass
    if signalled:
        deadline = time.monotonic() + ABORT_WAIT_S
        while True:
            now = store.load(_directory(work_dir, project))
            if now is not None and now.status != "running":
                break
            if time.monotonic() > deadline:
                raise ExternalToolError(
                    f"the rollout process {state.pid} did not roll back within {ABORT_WAIT_S:.0f} s",
                    hint="look at `infractl rollout status dev`; if it is gone, run abort again",
                )
            time.sleep(0.2)
        if now.status != "interrupted" or now.promoting:  # ended, or must stay on the canary (promote finishes it)
            return now
    with opened(work_dir, project.root) as stack:
        state = store.load(stack.directory) or state
        return back_to_stable(stack, state, "aborted by `infractl rollout abort`", status="aborted")


def promote(work_dir: Path, project: Project, env: str) -> RolloutState:
    _dev_only(env)
    state = _open_rollout(work_dir, project, "promote")
    if state.status == "running":
        raise UsageError(
            f"the rollout of {state.release} is still running (pid {state.pid}): its analysis decides",
            hint="interrupt it (Ctrl-C) first to promote without the remaining analysis",
        )
    with opened(work_dir, project.root) as stack:
        if not stack.has(CANARY):
            raise UsageError(
                f"the canary of {state.release} is not running: there is nothing to promote",
                hint=f"infractl rollout abort {env}, then roll it out again",
            )
        return finish_success(stack, state, lambda _line: None)


def _open_rollout(work_dir: Path, project: Project, verb: str) -> RolloutState:
    state = store.load(_directory(work_dir, project))
    if state is None or state.final:
        last = f" (the last one {state.status})" if state else ""
        raise UsageError(f"no rollout in progress to {verb}{last}", hint="infractl rollout status dev")
    return state


def _directory(work_dir: Path, project: Project) -> Path:
    stack = peek(work_dir, project.root)
    if stack is None:
        raise UsageError("the dev stack is not running", hint="start it with `infractl dev up --no-docker`")
    return stack.directory


def _dev_only(env: str) -> None:
    if env != "dev":
        raise UsageError(
            f"{env}'s rollouts are Argo Rollouts in its cluster",
            hint="kubectl argo rollouts get|abort|promote rollout <api> -n <namespace>; docs/delivery.md",
        )
