"""What a stack run does on an interrupt (SIGINT from a terminal, from CI cancellation or `timeout -s INT`).

Terraform runs in its own process group (adapters/process.py), so the interrupt reaches infractl only; `stop`
forwards one SIGINT to every running Terraform (its graceful stop: in-flight calls cancelled, state written, state
lock released), waits up to process.INTERRUPT_GRACE_S, then kills what is left. The stacks' threads then unwind
(their workspace locks are released on the way) and the run reports each stack as finished, `stopped` or
`not-started`; the command exits 130.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from infractl.adapters import process
from infractl.models.runs import Progress, StackResult

GRACE_S = process.INTERRUPT_GRACE_S
Interrupted = process.Interrupted


def stop(progress: Progress, running: list[str]) -> list[str]:
    """Forward the interrupt to every running command, give it the grace period, kill the rest; nothing new starts
    until `resume`. Returns the commands that had to be killed."""
    if running:
        progress.note(
            f"interrupted: stopping {', '.join(running)} (Terraform gets up to {GRACE_S:.0f} s to stop cleanly"
            " and release its state lock); no other stack starts"
        )
    else:
        progress.note("interrupted: no other stack starts")
    killed = process.interrupt_all(GRACE_S)
    if killed:
        progress.note(f"still running after {GRACE_S:.0f} s, killed: {', '.join(killed)}")
    return killed


def resume() -> None:
    """The interrupt is handled: commands may run again in this interpreter."""
    process.accept_commands()


def stopped(
    env_name: str, stack: str, exc: process.Interrupted, *, emulate: bool, add: int, change: int, destroy: int
) -> StackResult:
    """The result of a stack the interrupt stopped (with what its apply had done by then)."""
    flag = " --emulate" if emulate else ""
    if exc.killed:
        return StackResult(
            stack=stack,
            status="stopped",
            add=add,
            change=change,
            destroy=destroy,
            error=f"stopped by an interrupt: {exc.argv[0].rsplit('/', 1)[-1]} did not stop within {GRACE_S:.0f} s"
            " and was killed",
            error_details=[
                "its state lock may still be held, and resources it created may be missing from its state",
                f"the lock ID is in the error of: infractl plan {env_name} --stack {stack}{flag}",
            ],
            hint=f"release the lock: infractl state unlock {env_name} {stack} LOCK_ID{flag};"
            f" then list what it created without recording: infractl state recover {env_name} {stack}{flag}",
            exit_code=130,
        )
    return StackResult(
        stack=stack,
        status="stopped",
        add=add,
        change=change,
        destroy=destroy,
        error="stopped by an interrupt: Terraform stopped cleanly (what it finished is in the state; lock released)",
        hint=f"run it again to continue: infractl apply {env_name} --stack {stack}{flag}",
        exit_code=130,
    )


def _as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """During a stack run, SIGTERM (what a CI runner or a process supervisor sends before SIGKILL) is handled like
    SIGINT: Terraform gets its graceful stop instead of losing its output pipe. Only the main thread handles
    signals; elsewhere this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _as_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
