"""The emulator on the supervisor: it outlives the process that started it, another process stops it, and the
state.json of an older infractl still leads to its process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infractl.adapters import emulator, process

START = (
    "import pathlib, sys\n"
    "from infractl.adapters import emulator\n"
    "print(emulator.start(pathlib.Path(sys.argv[1]))[0].pid)\n"
)


def test_the_emulator_outlives_the_starting_process_and_another_process_stops_it(tmp_path: Path):
    data_dir = tmp_path / "emulator"
    done = subprocess.run([sys.executable, "-c", START, str(data_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.strip())
    try:
        state = emulator.status(data_dir)  # the starting process is gone
        assert state.running and state.pid == pid
        assert os.getpgid(pid) == pid  # its own process group
        assert state.url == f"https://127.0.0.1:{state.port}"
        assert state.ca_file == str(data_dir / "ca.pem")
        assert state.started_at
        assert emulator.start(data_dir) == (state, False)
        assert (data_dir / "moto.pid").read_text().strip() == str(pid)
    finally:
        was_running = emulator.stop(data_dir)
    assert was_running
    assert not process.pid_alive(pid)
    assert not emulator.status(data_dir).running
    assert not (data_dir / "state.json").exists()
    assert not (data_dir / "moto.pid").exists()
    assert (data_dir / "moto.log").is_file()
    assert emulator.stop(data_dir) is False


def test_a_state_file_of_an_older_infractl_is_still_stopped(tmp_path: Path):
    h = process.spawn(
        "moto", [sys.executable, "-c", "import time; time.sleep(60)"], env=os.environ, log=tmp_path / "x.log"
    )
    url = "https://127.0.0.1:1"
    (tmp_path / "state.json").write_text(json.dumps({"pid": h.pid, "port": 1, "url": url, "started_at": "x"}))
    assert not emulator.status(tmp_path).running  # alive, but it does not answer over TLS
    assert emulator.stop(tmp_path) is True
    assert not process.pid_alive(h.pid)
    assert not (tmp_path / "state.json").exists()


def test_a_missing_or_corrupt_state_file_means_not_running(tmp_path: Path):
    assert not emulator.status(tmp_path).running
    assert emulator.stop(tmp_path) is False
    (tmp_path / "state.json").write_text("{not json")
    assert not emulator.status(tmp_path).running
    assert emulator.stop(tmp_path) is False


def test_start_never_launches_a_second_emulator_over_a_live_slow_one(tmp_path, monkeypatch):
    """An emulator that is alive but does not answer (stopped here with SIGSTOP; a busy machine in life) is waited
    for, not replaced: a second one would orphan the first one's in-memory data."""
    import os
    import signal

    import pytest

    from infractl.adapters import emulator
    from infractl.errors import ExternalToolError

    state, _ = emulator.start(tmp_path / "emu")
    monkeypatch.setattr(emulator, "START_TIMEOUT_S", 2.0)
    os.kill(state.pid, signal.SIGSTOP)
    try:
        with pytest.raises(ExternalToolError):
            emulator.start(tmp_path / "emu")
        assert json.loads((tmp_path / "emu" / "state.json").read_text())["pid"] == state.pid
    finally:
        os.kill(state.pid, signal.SIGCONT)
    again, started = emulator.start(tmp_path / "emu")
    assert (again.pid, started) == (state.pid, False)
    emulator.stop(tmp_path / "emu")
