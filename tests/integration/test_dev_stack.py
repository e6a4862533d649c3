"""`infractl dev` in native mode with real processes: PostgreSQL, Temporal, OpenBao, moto S3, the OTLP receiver,
Prometheus, Alertmanager, the alert receiver, the api and the worker, on loopback ports of their own, in an isolated
work folder."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from infractl.adapters import localservices as ls
from infractl.cli import dev as dev_cli
from infractl.services.dev import contract, devstack, statefile

pytestmark = pytest.mark.integration

RUNTIME = ("controlplane.api", "controlplane.worker", "controlplane.migrate")


def _missing_runtime() -> list[str]:
    return [m for m in RUNTIME if importlib.util.find_spec(m) is None]


@pytest.fixture
def dev_work(tmp_path: Path, monkeypatch) -> Path:
    """An isolated work folder; whatever the test leaves running is stopped (and its data deleted) afterwards."""
    work = tmp_path / "work"
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(work))
    monkeypatch.delenv("CI", raising=False)
    yield work
    state = statefile.load_state(statefile.dev_dir(work))
    try:
        devstack.down(work, work, purge=True)
    finally:  # last resort: nothing of this test may outlive it
        for entry in state["services"].values():
            pgid = int(entry.get("extra", {}).get("pgid", entry["pid"]))
            if ls.survivors(ls.Running.from_dict(entry)):
                os.killpg(pgid, signal.SIGKILL)


LIVE_ALERT = "DevStackMonitoringLive"
LIVE_RULES = """groups:
- name: dev-stack-live
  rules:
  - alert: DevStackMonitoringLive
    expr: {expr}
    labels: {{severity: ticket, slo: dev-stack-live}}
    annotations:
      summary: the dev stack's alert path works
      runbook_url: https://example.invalid/docs/runbooks/dev-stack-live.md
"""


@pytest.fixture
def live_rule(monkeypatch) -> dict[str, str]:
    """The rules `dev up` hands to Prometheus (in place of the SLO rules the CLI's seam gives): one alert whose
    expression the test switches, firing with vector(1), quiet with `vector(1) == 0` (same rule, so Prometheus keeps
    its state across the reload and resolves it)."""
    rule = {"expr": "vector(1)"}

    def write(out: Path) -> list[Path]:
        path = out / "rules" / "dev-live.rules.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LIVE_RULES.format(expr=rule["expr"]))
        return [path]

    monkeypatch.setattr(dev_cli, "_rules_source", lambda project: write)
    return rule


def _alerts(url: str, status: str, deadline_s: float = 30) -> list[dict]:
    """The live alert's notifications with this status at the alert receiver, polled until one arrives."""
    deadline = time.monotonic() + deadline_s
    while True:
        code, body = _get(f"{url}?alertname={LIVE_ALERT}&status={status}")
        found = json.loads(body) if code == 200 else []
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def _get(url: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _pgids(state: dict) -> dict[str, int]:
    return {name: int(e.get("extra", {}).get("pgid", e["pid"])) for name, e in state["services"].items()}


def _processes_in_groups(pgids: set[int]) -> list[str]:
    """Every live process (not a zombie) whose process group is one of pgids, as 'pid command' lines."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        comm, _, rest = raw.partition(" (")[2].rpartition(")")
        fields = rest.split()
        if fields and fields[0] not in ("Z", "X") and int(fields[2]) in pgids:
            found.append(f"{entry.name} {comm}")
    return found


def test_up_status_reuse_down(invoke, dev_work: Path, live_rule: dict[str, str]):
    missing = _missing_runtime()
    if missing:
        pytest.fail(f"the control plane runtime is not installed (make install does it): {', '.join(missing)}")
    offset = random.randrange(20000, 40000, 10)  # away from the defaults a developer's own stack holds

    first = json.loads(invoke("dev", "up", "--no-docker", "--port-offset", str(offset), "--json").stdout)
    assert first["mode"] == "native"
    services = {s["name"]: s for s in first["services"]}
    assert set(services) == set(contract.SERVICES)
    assert {s["action"] for s in services.values()} == {"started"}

    # the developer's check: the api is ready (every dependency answers)
    api = services["api"]["address"]
    code, body = _get(f"http://{api}/readyz")
    assert code == 200, body
    assert _get(f"http://{api}/livez")[0] == 200

    # status: every service healthy, on the recorded ports, and no secret in the output
    state = statefile.load_state(statefile.dev_dir(dev_work))
    status = invoke("dev", "status", "--json").stdout
    data = json.loads(status)
    assert data["healthy"] is True
    assert {s["name"]: s["health"] for s in data["services"]} == dict.fromkeys(contract.SERVICES, "healthy")
    assert data["ports"]["api"] == int(api.rsplit(":", 1)[1])
    assert state["root_token"] not in status + json.dumps(first)
    assert state["root_token"] not in invoke("dev", "status").stdout
    env = invoke("dev", "env").stdout
    assert state["root_token"] not in env and "VAULT_TOKEN='********'" in env
    assert f"export VAULT_TOKEN={state['root_token']}" in invoke("dev", "env", "--show-secrets").stdout

    # logs are there and say where the processes came from
    assert "database system is ready" in invoke("dev", "logs", "postgres", "--lines", "200").stdout

    # monitoring: Prometheus scrapes the api's and the worker's metrics ports, which the app got in its environment
    urls = {s["name"]: s["url"] for s in data["services"]}
    prometheus, alerts_url = urls["prometheus"], urls["alerts"]
    assert (urls["alertmanager"], alerts_url) == (
        f"http://127.0.0.1:{data['ports']['alertmanager']}",
        f"http://127.0.0.1:{data['ports']['alerts']}/alerts",
    )
    code, body = _get(f"{prometheus}/api/v1/targets")
    assert code == 200, body
    scraped = {t["labels"]["job"]: t["scrapeUrl"] for t in json.loads(body)["data"]["activeTargets"]}
    assert scraped == {
        "controlplane-api": f"http://127.0.0.1:{data['ports']['api_metrics']}/metrics",
        "controlplane-worker": f"http://127.0.0.1:{data['ports']['worker_metrics']}/metrics",
    }
    api_env, worker_env = _environ(services["api"]["pid"]), _environ(services["worker"]["pid"])
    assert api_env["CONTROLPLANE_METRICS_PORT"] == str(data["ports"]["api_metrics"])
    assert worker_env["CONTROLPLANE_METRICS_PORT"] == str(data["ports"]["worker_metrics"])
    assert api_env["CONTROLPLANE_METRICS_HOST"] == worker_env["CONTROLPLANE_METRICS_HOST"] == "127.0.0.1"
    faults = statefile.dev_dir(dev_work) / "faults.json"
    assert api_env["CONTROLPLANE_FAULTS_FILE"] == str(faults) and "CONTROLPLANE_FAULTS_FILE" not in worker_env

    # the rule fires: Prometheus -> Alertmanager -> the receiver, with its labels and runbook link
    fired = _alerts(alerts_url, "firing")
    assert fired, (
        f"{LIVE_ALERT} never reached the alert receiver; Prometheus says {_get(prometheus + '/api/v1/alerts')}"
    )
    assert fired[0]["labels"]["slo"] == "dev-stack-live"
    assert fired[0]["annotations"]["runbook_url"].endswith("/docs/runbooks/dev-stack-live.md")

    # the fault switch: a file the api names in its environment
    set_out = invoke("dev", "fault", "--error-rate", "0.5", "--route", "/v1/runs").stdout
    assert "fault set: error_rate=0.5 latency_ms=0 routes=/v1/runs" in set_out
    assert json.loads(faults.read_text()) == {"error_rate": 0.5, "latency_ms": 0, "routes": ["/v1/runs"]}
    assert f"export CONTROLPLANE_FAULTS_FILE={faults}" in invoke("dev", "env", "--service", "api").stdout
    invoke("dev", "fault", "--clear")
    assert not faults.exists()

    # a second up reuses everything: same pids, nothing restarted; Prometheus re-reads the changed rule and resolves
    live_rule["expr"] = "vector(1) == 0"
    second = json.loads(invoke("dev", "up", "--no-docker", "--port-offset", str(offset), "--json").stdout)
    expected = {**dict.fromkeys(contract.SERVICES, "reused"), "prometheus": "reloaded"}
    assert {s["name"]: s["action"] for s in second["services"]} == expected
    assert {s["name"]: s["pid"] for s in second["services"]} == {s["name"]: s["pid"] for s in first["services"]}
    assert _get(f"http://{api}/readyz")[0] == 200
    assert _alerts(alerts_url, "resolved"), f"{LIVE_ALERT} was not resolved at the alert receiver"

    # down stops everything it started, children included (postgres backends, runuser), and nothing else
    pgids = _pgids(state)
    assert _processes_in_groups(set(pgids.values()))  # sanity: the scan sees them while they run
    down = json.loads(invoke("dev", "down", "--json").stdout)
    assert sorted(down["stopped"]) == sorted(contract.SERVICES)
    assert _processes_in_groups(set(pgids.values())) == []
    for name, entry in state["services"].items():
        assert not ls.is_healthy(ls.Running.from_dict(entry)), name
    assert not ls._tcp_open(*_split(api))
    assert json.loads(invoke("dev", "status", "--json").stdout)["mode"] == "none"

    # down again: a no-op
    again = json.loads(invoke("dev", "down", "--json").stdout)
    assert again["nothing_to_do"] is True and again["stopped"] == []


def _split(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def test_down_when_nothing_ever_ran_is_a_no_op(invoke, dev_work: Path):
    assert "nothing to stop" in invoke("dev", "down").stdout
    assert json.loads(invoke("dev", "down", "--json").stdout)["nothing_to_do"] is True


def test_a_taken_port_is_named_before_anything_starts(invoke, dev_work: Path):
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = invoke("dev", "up", "--no-docker", "--no-app", "--port", f"postgres={port}", code=2)
    assert f"postgres: port {port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert statefile.load_state(statefile.dev_dir(dev_work))["services"] == {}


def test_a_service_that_fails_to_start_is_named_with_its_log_tail(invoke, dev_work: Path, monkeypatch):
    """OpenBao cannot bind its port: `up` fails naming it and its log tail, and `down` cleans up the rest."""
    import socket

    real = ls.start_openbao
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        monkeypatch.setattr(
            ls, "start_openbao", lambda base, port, token, **kw: real(base, held.getsockname()[1], token, **kw)
        )
        result = invoke("dev", "up", "--no-docker", "--no-app", "--port-offset", "31000", code=1)
    assert "error: openbao exited with" in result.stderr
    assert "address already in use" in result.stderr  # the log tail
    assert "full log:" in result.stderr and "Traceback" not in result.stderr
    health = {s["name"]: s["health"] for s in json.loads(invoke("dev", "status", "--json", code=1).stdout)["services"]}
    assert health["openbao"] == "stopped" and health["postgres"] == "healthy"
    state = statefile.load_state(statefile.dev_dir(dev_work))
    down = json.loads(invoke("dev", "down", "--json").stdout)
    assert "postgres" in down["stopped"]
    assert _processes_in_groups(set(_pgids(state).values())) == []
