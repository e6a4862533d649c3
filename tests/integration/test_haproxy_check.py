"""The stable PostgreSQL endpoint's health check (adapters/haproxy.py: config) on a loaded machine: haproxy 2.6 kills
an external check that runs past the server's check interval, so a check slower than 100 ms once marked a healthy
primary down and cut every session (the db-failover drill then starved its clients). Real haproxy, scripted checks:
a slow but passing check never marks the server down; a failing one does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infractl.adapters import haproxy
from infractl.adapters import localservices as ls

pytestmark = pytest.mark.integration


def _script(path: Path, body: str, calls: Path) -> Path:
    path.write_text(f'#!/bin/sh\necho "$4" >> "{calls}"\n{body}\n')
    path.chmod(0o755)
    return path


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator:
    started: list[ls.Running] = []

    def start(body: str) -> tuple[ls.Running, Path]:
        calls = tmp_path / "calls.txt"
        script = _script(tmp_path / "check.sh", body, calls)
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(haproxy.config(ls.free_port(), [("primary", ls.HOST, ls.free_port())], script))
        haproxy.check_config(cfg)
        r = ls.start_process("haproxy", [haproxy.binary(), "-db", "-f", str(cfg)], {}, tmp_path, 0, None)
        started.append(r)
        return r, calls

    yield start
    for r in started:
        ls.stop(r)
        assert not ls.survivors(r)


def _wait(what: str, predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.05)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_slow_but_passing_check_keeps_the_server_up(endpoint):
    r, calls = endpoint("sleep 0.3\nexit 0")  # 3 times the old 100 ms interval
    _wait("four checks", lambda: len(_lines(calls)) >= 5)  # the fifth started: four finished
    log = r.log.read_text()
    assert "is DOWN" not in log and "check timeout" not in log, log


def test_a_failing_check_marks_the_server_down(endpoint):
    r, _calls = endpoint("exit 1")
    _wait("the server marked down", lambda: "primary/primary is DOWN" in r.log.read_text())
