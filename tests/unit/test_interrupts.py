"""Interrupts: a SIGINT to infractl's pid alone reaches the commands running in the stack threads, once; they get
a grace period, then are killed; the run reports every stack as finished, stopped or not started."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from infractl.adapters import process
from infractl.models.runs import NullProgress, StackResult
from infractl.models.stacks import Stack, StackSpec
from infractl.services.stacks import interrupts
from infractl.services.stacks.executor import Run, each

pytestmark = pytest.mark.usefixtures("sigint_as_a_terminal_sends_it")

GRACEFUL = """
import signal, subprocess, sys, time
child = subprocess.Popen(["sleep", "300"])  # what it started lives in its process group
def stop(*_):
    print("stopping", flush=True)
    sys.exit(3)
signal.signal(signal.SIGINT, stop)
print("ready", child.pid, flush=True)
time.sleep(300)
"""
STUBBORN = """
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(300)
"""


def script(tmp_path: Path, name: str, text: str) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return [sys.executable, str(path)]


def stacks(edges: dict[str, list[str]]) -> list[Stack]:
    return [Stack(name=n, spec=StackSpec(cloud="aws", path=n, depends_on=d)) for n, d in edges.items()]


def run_until_interrupted(argv: list[str], seen: list[str], sig: int = signal.SIGINT) -> list[StackResult]:
    """quick finishes; slow runs argv and, once it is ready, SIGINT goes to this process's pid alone (the main
    thread waits in the executor); after depends on slow."""

    def body(stack: Stack) -> StackResult:
        if stack.name == "slow":

            def on_line(line: str) -> None:
                seen.append(line)
                if line.startswith("ready"):
                    os.kill(os.getpid(), sig)

            process.run(argv, on_line=on_line)
        return StackResult(stack=stack.name, status="applied")

    run = Run(ctx=None, env=None, manifest=None, backend=None, progress=NullProgress(), parallelism=4)
    results = each(run, stacks({"quick": [], "slow": [], "after": ["slow"]}), body)
    assert run.interrupted
    return results


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_sigint_to_our_pid_stops_running_commands_and_reports_every_stack(tmp_path, monkeypatch):
    monkeypatch.setattr(interrupts, "GRACE_S", 30.0)
    seen: list[str] = []
    results = run_until_interrupted(script(tmp_path, "graceful", GRACEFUL), seen)
    assert [(r.stack, r.status) for r in results] == [
        ("quick", "applied"),
        ("slow", "stopped"),
        ("after", "not-started"),
    ]
    assert "stopping" in seen  # the command got the forwarded SIGINT and stopped on its own
    slow = results[1]
    assert "stopped cleanly" in slow.error and slow.exit_code == 130 and "state unlock" not in (slow.hint or "")
    grandchild = int(next(line for line in seen if line.startswith("ready")).split()[1])
    assert not alive(grandchild)  # what the command started in its group is gone too
    process.run([sys.executable, "-c", "pass"])  # the interrupt is over: commands run again


def test_a_command_ignoring_sigint_is_killed_after_the_grace_period(tmp_path, monkeypatch):
    monkeypatch.setattr(interrupts, "GRACE_S", 0.5)
    seen: list[str] = []
    results = run_until_interrupted(script(tmp_path, "stubborn", STUBBORN), seen)
    slow = next(r for r in results if r.stack == "slow")
    assert slow.status == "stopped" and "was killed" in slow.error
    assert any("lock may still be held" in d for d in slow.error_details)
    assert "infractl state unlock ENV slow LOCK_ID" in slow.hint and "infractl state recover ENV slow" in slow.hint


def test_nothing_starts_during_an_interrupt(tmp_path):
    """Between the forwarded SIGINT and the end of the interrupt, run refuses to start a command."""
    ready = threading.Event()
    outcome: list[BaseException] = []

    def worker() -> None:
        try:
            process.run(script(tmp_path, "graceful", GRACEFUL), on_line=lambda line: ready.set())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    assert ready.wait(30)
    try:
        assert process.interrupt_all(grace=30) == []
        thread.join()
        (exc,) = outcome
        assert isinstance(exc, process.Interrupted) and not exc.killed
        with pytest.raises(process.Interrupted) as refused:
            process.run(["true"])
        assert not refused.value.started
    finally:
        process.accept_commands()
    assert process.run(["true"]).returncode == 0


def test_sigterm_during_a_run_is_handled_like_sigint(tmp_path, monkeypatch):
    monkeypatch.setattr(interrupts, "GRACE_S", 30.0)
    before = signal.getsignal(signal.SIGTERM)
    seen: list[str] = []
    results = run_until_interrupted(script(tmp_path, "graceful", GRACEFUL), seen, signal.SIGTERM)
    assert [(r.stack, r.status) for r in results] == [
        ("quick", "applied"),
        ("slow", "stopped"),
        ("after", "not-started"),
    ]
    assert "stopping" in seen
    assert signal.getsignal(signal.SIGTERM) == before  # only during the run
