"""The one way infractl runs an external program, and the only module that imports subprocess.

- `run`: a command to completion (stdout streamed or collected, stderr tail in the error, optional timeout);
  `probe`: a bounded yes/no check (exit 0 within the timeout).
- `find_binary`: where a program is (a configured path, then given folders, then PATH).
- The supervisor of long-lived services: `spawn` one in its own session with its output appended to a log file,
  `wait_ready` until a probe passes (or fail with the log tail when it exits or times out), `stop_group` with
  SIGTERM then SIGKILL to its process group, `is_running` / `pid_alive` (a zombie counts as dead). A `Handle`
  is plain data, so another process can check or stop a service this one started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infractl.errors import CommandError, ExternalToolError

STDERR_TAIL_LINES = 30
LOG_TAIL_LINES = 20


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
    timeout: float | None = None,
) -> Completed:
    """Run argv; stream stdout lines to on_line when given; raise CommandError on an exit code not in ok_codes.

    stderr is collected and its tail carried by the error. With a timeout (seconds) the command runs in its own
    process group, which is killed when it runs longer, and a CommandError says it timed out. Without one, on
    Ctrl-C the child (same process group) receives SIGINT too; we wait for it to stop cleanly before re-raising,
    so Terraform can release its lock.
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
            # bounded: its own process group, so a timeout kills what it started too (they hold our pipes)
            start_new_session=timeout is not None,
        )
    except FileNotFoundError as exc:
        raise ExternalToolError(f"{argv[0]} not found", hint=f"install {argv[0]} or put it on PATH") from exc
    stdout_lines: list[str] = []
    stderr_tail: deque[str] = deque(maxlen=400)
    timed_out = threading.Event()

    def _kill_on_timeout() -> None:
        if proc.poll() is not None:  # it finished just as the timer fired: not a timeout
            return
        timed_out.set()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, _kill_on_timeout) if timeout is not None else None
    try:

        def _drain_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                stderr_tail.append(line.rstrip("\n"))

        t = threading.Thread(target=_drain_stderr, daemon=True)
        t.start()
        if timer is not None:
            timer.daemon = True
            timer.start()
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
        # exit at once without releasing its lock, so only wait for it. A bounded command has its own group.
        _stop(proc, signal_first=timeout is not None)
        raise
    except BaseException:
        _stop(proc, signal_first=True)
        raise
    finally:
        if timer is not None:
            timer.cancel()
    tail = "\n".join(list(stderr_tail)[-STDERR_TAIL_LINES:])
    if timed_out.is_set():
        raise CommandError(argv, proc.returncode, tail, message=f"{_display(argv)} timed out after {timeout:g} s")
    result = Completed(argv, proc.returncode, "\n".join(stdout_lines), "\n".join(stderr_tail))
    if proc.returncode not in ok_codes:
        raise CommandError(argv, proc.returncode, tail)
    return result


def probe(argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> bool:
    """True when argv exits 0 within timeout seconds; False when it fails, hangs or cannot be started."""
    try:
        run(argv, env=env, timeout=timeout)
    except (ExternalToolError, OSError):  # OSError: found but not startable (permissions, a broken interpreter)
        return False
    return True


def _display(argv: Sequence[str]) -> str:
    name = argv[0].rsplit("/", 1)[-1] if argv else "command"
    return f"{name} {argv[1]}" if len(argv) > 1 else name


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


# --- finding a binary --------------------------------------------------------------------------------------------


def find_binary(
    name: str,
    *,
    configured: str | None = None,
    extra_dirs: Iterable[Path | str] = (),
    hint: str | None = None,
) -> str:
    """The path of program `name`. A configured value (a path, or a name looked up on PATH) is the only candidate
    when given; otherwise the first executable `name` in extra_dirs (e.g. the venv's bin, .tools/...), then PATH.
    Raises ExternalToolError with hint (default: install it or put it on PATH) when there is none."""
    if configured:
        found = _executable(configured)
        if found:
            return found
        what = name if configured == name else f"{name} ({configured!r})"
        raise ExternalToolError(f"{what} not found", hint=hint or f"install {name} or put it on PATH")
    for folder in extra_dirs:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise ExternalToolError(f"{name} not found", hint=hint or f"install {name} or put it on PATH")
    return found


def _executable(name: str) -> str | None:
    if os.sep not in name:
        return shutil.which(name)
    return name if os.path.isfile(name) and os.access(name, os.X_OK) else None


# --- the supervisor of long-lived services -----------------------------------------------------------------------

# Popen objects of the processes this interpreter spawned: kept so they can be reaped (no zombies, no "subprocess
# is still running" warnings). Processes spawned by another infractl run are found by pid.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Handle:
    """A spawned process: its pid, its process group and its start time (guards against a recycled pid)."""

    pid: int
    pgid: int
    started: str | None = None


def spawn(name: str, argv: Sequence[str], *, env: Mapping[str, str], log: Path, cwd: Path | None = None) -> Handle:
    """Start argv in its own session (process group), stdin closed, stdout and stderr appended to log (0600: some
    services print credentials). It outlives this process unless stopped."""
    argv = [str(a) for a in argv]
    log.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as fh:
        fh.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {name}: {argv[0]}\n".encode())
        fh.flush()
        try:
            proc = subprocess.Popen(
                argv,
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise ExternalToolError(
                f"{name}: {argv[0]} not found", hint=f"install {argv[0]} or put it on PATH"
            ) from exc
    _CHILDREN[proc.pid] = proc
    started = _start_time(proc.pid)
    return Handle(pid=proc.pid, pgid=proc.pid, started=None if started is None else str(started))


def wait_ready(h: Handle, ready: Callable[[], bool], timeout: float, *, name: str, log: Path, where: str = "") -> None:
    """Block until ready() is true while h runs; raise ExternalToolError naming the service (and `where`, e.g.
    "port 8200") with the tail of its log when it exits first or is not ready within timeout seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    suffix = f", {where}" if where else ""
    while True:
        if is_running(h) and ready():
            return
        if not is_running(h):
            code = exit_code(h.pid)
            exited = f"exited with {code}" if code is not None else "is not running"
            raise ExternalToolError(
                f"{name} {exited} while starting{f' ({where})' if where else ''}",
                details=tail_file(log),
                hint=f"full log: {log}",
            )
        if time.monotonic() >= deadline:
            raise ExternalToolError(
                f"{name} did not become healthy within {timeout:.0f} s (pid {h.pid}{suffix})",
                details=tail_file(log),
                hint=f"full log: {log}",
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def stop_group(h: Handle, timeout: float = 10) -> list[int]:
    """Stop h and everything in its process group: SIGTERM, then SIGKILL after timeout seconds. A pid that is no
    longer the process that was spawned (recycled) is left alone. Idempotent. Returns the survivors (see
    `survivors`; empty when it did its job)."""
    if is_running(h):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(h.pgid, signal.SIGTERM)
        if not _wait_gone(h, timeout):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(h.pgid, signal.SIGKILL)
            _wait_gone(h, 5)
    elif not pid_alive(h.pid) and _group_members(h.pgid):
        # The leader is gone but members of its group survive. Linux never hands out a pid that is still some
        # group's id, so they are ours: finish them.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(h.pgid, signal.SIGKILL)
        _wait_gone(h, 5)
    exit_code(h.pid)
    return survivors(h)


def survivors(h: Handle) -> list[int]:
    """Pids still alive in h's process group (empty once `stop_group` did its job)."""
    if is_running(h):
        return _group_members(h.pgid)
    if pid_alive(h.pid):
        return []  # the pid was recycled: that process and its group belong to someone else
    return _group_members(h.pgid)  # orphans of our group (a live group id is never recycled)


def is_running(h: Handle) -> bool:
    """h.pid is alive, not a zombie, and (when recorded) started at the recorded time."""
    fields = _stat(h.pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return h.started is None or (len(fields) > 19 and fields[19] == h.started)


def pid_alive(pid: int | None) -> bool:
    """pid exists and is not a zombie."""
    if not pid:
        return False
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def exit_code(pid: int) -> int | None:
    """Reap a child this interpreter spawned: its exit status, or None while it runs or when it is not ours."""
    proc = _CHILDREN.get(pid)
    if proc is None:
        return None
    code = proc.poll()
    if code is not None:
        _CHILDREN.pop(pid, None)
    return code


def tail_file(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last `lines` lines of path (reads at most the last 256 KiB)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 256 * 1024))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:] if lines > 0 else []


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat fields after the command name (state is [0], pgrp [2], starttime [19])."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is pgid."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields and len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _wait_gone(h: Handle, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        exit_code(h.pid)
        if not _group_members(h.pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
