"""The one way infractl runs an external program."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infractl.errors import CommandError, ExternalToolError

STDERR_TAIL_LINES = 30


@dataclass(frozen=True)
class Completed:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    on_line: Callable[[str], None] | None = None,
    ok_codes: tuple[int, ...] = (0,),
) -> Completed:
    """Run argv; stream stdout lines to on_line when given; raise CommandError on an exit code not in ok_codes.

    stderr is collected and its tail carried by the error. On Ctrl-C the child (same process group) receives
    SIGINT too; we wait for it to stop cleanly before re-raising, so Terraform can release its lock.
    """
    argv = [str(a) for a in argv]
    try:
        proc = subprocess.Popen(
            argv,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
    except FileNotFoundError as exc:
        raise ExternalToolError(f"{argv[0]} not found", hint=f"install {argv[0]} or put it on PATH") from exc
    stdout_lines: list[str] = []
    stderr_tail: deque[str] = deque(maxlen=400)
    try:
        import threading

        def _drain_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                stderr_tail.append(line.rstrip("\n"))

        t = threading.Thread(target=_drain_stderr, daemon=True)
        t.start()
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            stdout_lines.append(line)
            if on_line is not None:
                on_line(line)
        proc.wait()
        t.join()
    except KeyboardInterrupt:
        # The terminal already sent SIGINT to the child (same process group); a second one would make Terraform
        # exit at once without releasing its lock, so only wait for it.
        _stop(proc, signal_first=False)
        raise
    except BaseException:
        _stop(proc, signal_first=True)
        raise
    result = Completed(argv, proc.returncode, "\n".join(stdout_lines), "\n".join(stderr_tail))
    if proc.returncode not in ok_codes:
        raise CommandError(argv, proc.returncode, "\n".join(list(stderr_tail)[-STDERR_TAIL_LINES:]))
    return result


def _stop(proc: subprocess.Popen[str], *, signal_first: bool) -> None:
    """Give the child a chance to finish cleanly (Terraform releases its state lock on one SIGINT)."""
    if proc.poll() is not None:
        return
    try:
        if signal_first:
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass


def clean_env(base: Mapping[str, str] | None = None, *, drop_prefixes: Sequence[str] = ()) -> dict[str, str]:
    """A copy of the environment without the variables whose names start with one of drop_prefixes."""
    env = dict(os.environ if base is None else base)
    for key in list(env):
        if any(key.startswith(p) for p in drop_prefixes):
            del env[key]
    return env
