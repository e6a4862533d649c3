"""The one way infractl runs an external program, and the only module that imports subprocess.

- `run`: a command to completion (stdout streamed or collected, stderr tail in the error, optional timeout);
  `probe`: a bounded yes/no check (exit 0 within the timeout).
- Interrupts: every `run` child has its own process group, so a signal reaches it only when infractl sends it —
  exactly once, whether the SIGINT came from a terminal (its whole group) or to infractl's pid alone (CI
  cancellation, `timeout -s INT`). `interrupt_all` forwards SIGINT to every running command, waits up to
  INTERRUPT_GRACE_S for them to stop, then kills what is left; the commands' own `run` calls raise `Interrupted`.
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
# How long a command gets to stop after its SIGINT before it is killed. Terraform's first SIGINT is its graceful
# stop: it asks the providers to cancel what is in flight (waiters included), writes the state and releases the
# state lock; that takes seconds, a slow cloud call up to about half a minute.
INTERRUPT_GRACE_S = 45.0
KILL_WAIT_S = 5.0  # between SIGTERM and SIGKILL


class Interrupted(KeyboardInterrupt):
    """A command was stopped by an interrupt (`interrupt_all`), or not started because one is under way.
    `killed`: it did not stop within the grace period and was killed (Terraform then keeps its lock)."""

    def __init__(self, argv: Sequence[str], *, killed: bool = False, started: bool = True) -> None:
        super().__init__(_display(argv))
        self.argv = list(argv)
        self.killed = killed
        self.started = started


# The children of `run` now running (pid -> Popen), and the interrupt state. Guarded by _RUN_LOCK: a command
# starts either before an interrupt (and gets its SIGINT) or after (and is refused), never in between.
_RUNNING: dict[int, subprocess.Popen[str]] = {}
_RUN_LOCK = threading.Lock()
_STOPPING = threading.Event()
_KILLED: set[int] = set()


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
    with _RUN_LOCK:
        if _STOPPING.is_set():
            raise Interrupted(argv, started=False)
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
                # Its own process group: a terminal's Ctrl-C does not reach it directly, so the one SIGINT it gets
                # comes from us (a second one makes Terraform exit at once, lock held); and a timeout or a kill
                # after the grace period stops what it started too (they hold our pipes).
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise ExternalToolError(f"{argv[0]} not found", hint=f"install {argv[0]} or put it on PATH") from exc
        _RUNNING[proc.pid] = proc
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
    except Interrupted:
        raise
    except KeyboardInterrupt:
        # Ctrl-C (or a SIGINT to our pid) while this thread ran the command: pass it on, once, and wait.
        killed = _stop_group(proc, INTERRUPT_GRACE_S)
        raise Interrupted(argv, killed=killed) from None
    except BaseException:
        _stop_group(proc, INTERRUPT_GRACE_S)
        raise
    finally:
        if timer is not None:
            timer.cancel()
        with _RUN_LOCK:
            _RUNNING.pop(proc.pid, None)
    if proc.pid in _KILLED:
        raise Interrupted(argv, killed=True)
    if _STOPPING.is_set() and proc.returncode != 0:
        raise Interrupted(argv)
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


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _stop_group(proc: subprocess.Popen[str], grace: float) -> bool:
    """SIGINT to the command's process group (what a terminal's Ctrl-C sends), up to grace seconds to stop (a
    second KeyboardInterrupt cuts it short), then SIGTERM and SIGKILL. True when it had to be killed."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.wait(timeout=grace)
    return _kill_rest(proc)


def _kill_rest(proc: subprocess.Popen[str]) -> bool:
    """Kill what is left of the command's process group; True when the command itself was still running."""
    alive = proc.poll() is None
    if alive:
        _KILLED.add(proc.pid)
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=KILL_WAIT_S)
    if proc.poll() is None or _group_members(proc.pid):
        # the leader is gone but what it started lives on: its group id cannot be recycled while they do
        _signal_group(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=KILL_WAIT_S)
    return alive


def interrupt_all(grace: float = INTERRUPT_GRACE_S) -> list[str]:
    """Stop every command `run` is running in any thread: SIGINT to each process group at once, up to grace seconds
    for all of them (a second KeyboardInterrupt cuts the wait short), then SIGTERM/SIGKILL what is left. From now
    until `accept_commands`, `run` starts nothing (it raises Interrupted). Returns the commands that were killed."""
    with _RUN_LOCK:
        _STOPPING.set()
        procs = list(_RUNNING.values())
    for proc in procs:
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + grace
    with contextlib.suppress(KeyboardInterrupt):
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    return [_display(proc.args) for proc in procs if _kill_rest(proc)]  # type: ignore[arg-type]


def accept_commands() -> None:
    """End of an interrupt: `run` may start commands again (a later command in the same interpreter, tests)."""
    with _RUN_LOCK:
        _STOPPING.clear()
        _KILLED.clear()


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
