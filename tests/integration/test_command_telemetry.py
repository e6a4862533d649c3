"""infractl's own telemetry over the wire: each command is one span and metric points at the OTLP endpoint it is
given (the local receiver, a real OTLP/HTTP server), nothing without one."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from controlplane.devtools.otlp_receiver import read_jsonl
from infractl.adapters import localservices as ls
from infractl.services.telemetry import command_path
from tests.conftest import REPO

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    r = ls.start_otlp_receiver(tmp_path_factory.mktemp("otlp"), ls.free_port())
    yield r
    ls.stop(r)


def _records(receiver, signal: str, predicate, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in read_jsonl(Path(receiver.extra["out"]), signal) if predicate(r)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_command_is_one_span_with_its_exit_code_and_metric_points(invoke, receiver, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.extra["endpoint"])
    monkeypatch.setenv("OTEL_SERVICE_NAME", "infractl-test-ok")
    invoke("env", "show", "dev", "--json", root=REPO)
    spans = _records(receiver, "span", lambda s: s["resource"].get("service.name") == "infractl-test-ok")
    assert [s["name"] for s in spans] == ["infractl env show"]
    assert spans[0]["attributes"]["infractl.exit_code"] == 0
    assert spans[0]["status"]["code"] != "ERROR"
    assert "dev" not in spans[0]["attributes"].values()  # arguments are never recorded
    points = _records(receiver, "metric", lambda m: m["resource"].get("service.name") == "infractl-test-ok")
    assert {"infractl.command.duration", "infractl.command.invocations"} <= {p["name"] for p in points}

    # a failing command: its span says so, with the named exit code
    monkeypatch.setenv("OTEL_SERVICE_NAME", "infractl-test-fail")
    result = invoke("env", "show", "no-such-env", code=3, root=REPO)
    assert "no-such-env" in result.stderr
    failed = _records(receiver, "span", lambda s: s["resource"].get("service.name") == "infractl-test-fail")
    assert [s["name"] for s in failed] == ["infractl env show"]
    assert failed[0]["attributes"]["infractl.exit_code"] == 3
    assert failed[0]["status"]["code"] == "ERROR"


def test_without_an_endpoint_nothing_is_loaded_or_sent():
    code = (
        "import sys; from infractl.cli.main import main; rc = main(['env', 'list', '--json']); "
        "sys.stdout.flush(); print('SDK' if 'opentelemetry.sdk' in sys.modules else 'NO-SDK', rc)"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "NO-SDK 0"


def test_command_path_skips_global_options_and_never_takes_arguments():
    groups = {"tenant", "evidence", "dev"}
    assert command_path(["--root", "/x", "-v", "tenant", "create", "dev", "acme"], groups) == ["tenant", "create"]
    assert command_path(["apply", "prod", "--stack", "data"], groups) == ["apply"]
    assert command_path(["dev", "--help"], groups) == ["dev"]
    assert command_path([], groups) == []


def test_a_collector_that_is_down_costs_one_line_never_the_result(invoke, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{ls.free_port()}")
    result = invoke("env", "list", "--json", root=REPO)
    assert '"dev"' in result.stdout
    assert result.stderr.strip().splitlines() == [
        f"telemetry: could not export spans and metrics to {__import__('os').environ['OTEL_EXPORTER_OTLP_ENDPOINT']}"
    ]
