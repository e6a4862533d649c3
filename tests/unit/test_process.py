"""adapters/process: run with a timeout, bounded probes, find_binary, and the supervisor of long-lived services."""

from __future__ import annotations

import os
import signal
import stat
import sys
import time
from pathlib import Path

import pytest

from infractl.adapters import checkov, docker, helm, postgres, process, terraform
from infractl.errors import CommandError, ExternalToolError

PY = sys.executable


# --- run and probe -----------------------------------------------------------------------------------------------


def test_run_within_its_timeout_returns_the_output():
    done = process.run([PY, "-c", "print('hello')"], timeout=30)
    assert done.stdout == "hello"
    assert done.returncode == 0


def test_run_past_its_timeout_kills_the_command_and_names_it():
    started = time.monotonic()
    with pytest.raises(CommandError) as info:
        process.run(
            [PY, "-c", "import sys, time; print('slow', file=sys.stderr, flush=True); time.sleep(30)"], timeout=1
        )
    assert time.monotonic() - started < 15
    assert info.value.message.endswith("timed out after 1 s")
    assert info.value.message.startswith(Path(PY).name)
    assert info.value.returncode == -signal.SIGKILL
    assert "slow" in info.value.details


def test_a_timeout_also_kills_what_the_command_started():
    started = time.monotonic()
    with pytest.raises(CommandError, match="timed out"):
        process.run(["sh", "-c", "sleep 30; echo never"], timeout=1)  # sleep holds the output pipe
    assert time.monotonic() - started < 15


def test_probe_is_true_only_for_exit_zero_within_the_timeout(tmp_path: Path):
    assert process.probe([PY, "-c", "pass"], timeout=30)
    assert not process.probe([PY, "-c", "raise SystemExit(1)"], timeout=30)
    assert not process.probe([PY, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert not process.probe([str(tmp_path / "no-such-program")], timeout=5)


# --- find_binary -------------------------------------------------------------------------------------------------


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_find_binary_prefers_configured_then_extra_dirs_then_path(tmp_path: Path, monkeypatch):
    on_path = _exe(tmp_path / "path" / "tool")
    in_extra = _exe(tmp_path / "extra" / "tool")
    configured = _exe(tmp_path / "configured" / "my-tool")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert process.find_binary("tool") == str(on_path)
    assert process.find_binary("tool", extra_dirs=[tmp_path / "empty", in_extra.parent]) == str(in_extra)
    assert process.find_binary("tool", configured=str(configured), extra_dirs=[in_extra.parent]) == str(configured)
    assert process.find_binary("tool", configured="tool", extra_dirs=[in_extra.parent]) == str(on_path)


def test_find_binary_skips_a_file_that_is_not_executable(tmp_path: Path, monkeypatch):
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "tool").write_text("not executable")
    on_path = _exe(tmp_path / "path" / "tool")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert process.find_binary("tool", extra_dirs=[tmp_path / "extra"]) == str(on_path)


def test_find_binary_missing_is_an_error_with_the_hint(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExternalToolError, match=r"^tool not found$") as info:
        process.find_binary("tool", hint="run make tools")
    assert info.value.hint == "run make tools"
    _exe(tmp_path / "tool")
    # a configured binary that is missing is an error, not a fallback to the one on PATH
    with pytest.raises(ExternalToolError, match="not found") as info:
        process.find_binary("tool", configured=str(tmp_path / "gone" / "tool"))
    assert str(tmp_path / "gone" / "tool") in info.value.message
    assert "PATH" in (info.value.hint or "")


def test_tool_policies_share_the_lookup(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    path_checkov = _exe(tmp_path / "path" / "checkov")
    assert checkov.find_binary(tmp_path, None) == str(path_checkov)
    project_checkov = _exe(tmp_path / ".tools" / "checkov" / "bin" / "checkov")
    assert checkov.find_binary(tmp_path, None) == str(project_checkov)
    assert checkov.find_binary(tmp_path, "checkov") == str(path_checkov)
    with pytest.raises(ExternalToolError) as info:
        terraform.find_binary("terraform")
    assert "INFRACTL_TERRAFORM_BIN" in (info.value.hint or "")
    tf = _exe(tmp_path / "bin" / "tf")
    assert terraform.find_binary(str(tf)) == str(tf)
    assert helm.binary() is None
    path_helm = _exe(tmp_path / "path" / "helm")
    assert helm.binary() == str(path_helm)


# --- the supervisor ----------------------------------------------------------------------------------------------


def test_spawn_runs_in_its_own_session_and_waits_until_ready(tmp_path: Path):
    flag = tmp_path / "ready"
    script = (
        f"import pathlib, time; print('up', flush=True); time.sleep(0.5); pathlib.Path({str(flag)!r}).touch()\n"
        "time.sleep(60)\n"
    )
    log = tmp_path / "svc.log"
    h = process.spawn("svc", [PY, "-c", script], env=os.environ, log=log)
    try:
        assert os.getpgid(h.pid) == h.pid == h.pgid != os.getpgid(0)
        assert process.is_running(h)
        process.wait_ready(h, flag.exists, 30, name="svc", log=log)
        assert flag.exists()
        assert oct(log.stat().st_mode & 0o777) == "0o600"
        assert "starting svc" in log.read_text()
    finally:
        process.stop_group(h, 5)
    assert not process.is_running(h)


def test_a_process_that_exits_early_fails_with_its_exit_code_and_log_tail(tmp_path: Path):
    log = tmp_path / "svc.log"
    h = process.spawn("svc", [PY, "-c", "print('bad config: x'); raise SystemExit(4)"], env=os.environ, log=log)
    with pytest.raises(ExternalToolError) as info:
        process.wait_ready(h, lambda: False, 30, name="svc", log=log, where="port 1")
    assert info.value.message == "svc exited with 4 while starting (port 1)"
    assert "bad config: x" in info.value.details
    assert info.value.hint == f"full log: {log}"


def test_a_process_that_is_never_ready_times_out(tmp_path: Path):
    log = tmp_path / "svc.log"
    h = process.spawn(
        "svc", [PY, "-c", "print('waiting', flush=True); import time; time.sleep(60)"], env=os.environ, log=log
    )
    try:
        with pytest.raises(ExternalToolError, match=r"^svc did not become healthy within 1 s \(pid \d+\)$") as info:
            process.wait_ready(h, lambda: False, 1, name="svc", log=log)
        assert "waiting" in info.value.details
    finally:
        process.stop_group(h, 5)


def test_stop_group_kills_what_ignores_sigterm_and_its_children(tmp_path: Path):
    script = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "grandchild = 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'\n"
        "subprocess.Popen([sys.executable, '-c', grandchild])\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    log = tmp_path / "svc.log"
    h = process.spawn("svc", [PY, "-c", script], env=os.environ, log=log)
    deadline = time.monotonic() + 10
    while len(process.survivors(h)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(process.survivors(h)) == 2
    started = time.monotonic()
    assert process.stop_group(h, 0.5) == []
    assert time.monotonic() - started < 10
    assert not process.pid_alive(h.pid)
    assert process.stop_group(h, 0.5) == []  # idempotent


def test_a_zombie_counts_as_dead(tmp_path: Path):
    h = process.spawn("svc", [PY, "-c", "pass"], env=os.environ, log=tmp_path / "svc.log")
    deadline = time.monotonic() + 10
    while process._stat(h.pid)[0] != "Z" and time.monotonic() < deadline:  # exited, not reaped yet
        time.sleep(0.05)
    assert process._stat(h.pid)[0] == "Z"
    assert not process.pid_alive(h.pid)
    assert not process.is_running(h)
    assert process.exit_code(h.pid) == 0  # reaped now
    assert process._stat(h.pid) is None


def test_a_recycled_pid_is_not_the_spawned_process():
    me = process.Handle(pid=os.getpid(), pgid=os.getpgid(0), started="1")
    assert process.pid_alive(me.pid)
    assert not process.is_running(me)
    assert process.survivors(me) == []
    assert process.stop_group(me, 0.1) == []  # would kill this test run if it trusted the pid alone


def test_tail_file_returns_the_last_lines(tmp_path: Path):
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert process.tail_file(log, 2) == ["line 98", "line 99"]
    assert process.tail_file(log, 0) == []
    assert process.tail_file(tmp_path / "missing.log") == []


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(("body", "expected"), [("exit 0", True), ("exit 1", False), ("sleep 30", False)])
def test_the_docker_engine_probe_is_bounded(tmp_path: Path, monkeypatch, body: str, expected: bool):
    _script(tmp_path / "bin" / "docker", body)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    started = time.monotonic()
    assert docker.engine_available(timeout=1) is expected
    assert time.monotonic() - started < 15
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker client at all
    assert docker.engine_available(timeout=1) is False


def test_the_postgres_probe_asks_pg_isready_from_the_server_folder(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert postgres.ready("127.0.0.1", 1, None) is None  # no pg_isready: the caller falls back to TCP
    args = tmp_path / "args"
    _script(tmp_path / "pgbin" / "pg_isready", f'echo "$@" > {args}; exit 0')
    assert postgres.ready("127.0.0.1", 5433, str(tmp_path / "pgbin")) is True
    assert args.read_text().split()[:4] == ["-q", "-h", "127.0.0.1", "-p"]
    _script(tmp_path / "pgbin" / "pg_isready", "exit 2")
    assert postgres.ready("127.0.0.1", 5433, str(tmp_path / "pgbin")) is False
