"""The dev stack's monitoring without a running stack: the config files Prometheus and Alertmanager get (checked by
their own promtool/amtool), compose's copies of them, the rule files, reload decisions, the fault switch and the alert
receiver's webhook handling."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from tests.conftest import REPO

from controlplane.devtools import alert_receiver
from infractl.adapters import localservices as ls
from infractl.errors import ConfigError, ExternalToolError, UsageError
from infractl.services.dev import compose, contract, devstack, monitoring, statefile

PORTS = {**contract.DEFAULT_PORTS}
RULE = """groups:
- name: devmon-unit
  rules:
  - alert: DevMonUnit
    expr: vector(1)
    labels: {severity: ticket, slo: devmon-unit}
    annotations: {summary: a rule of the unit test, runbook_url: http://x/docs/runbooks/devmon.md}
"""


def _writer(text: str = RULE, name: str = "dev-slo.rules.yml"):
    """A RulesSource as infractl.services.slo.write behaves: rules/<name> plus a dashboard that is no rule file."""

    def write(out: Path) -> list[Path]:
        (out / "rules").mkdir(parents=True, exist_ok=True)
        (out / "dashboards").mkdir(parents=True, exist_ok=True)
        (out / "rules" / name).write_text(text)
        (out / "dashboards" / "slo.json").write_text("{}")
        return [out / "rules" / name, out / "dashboards" / "slo.json"]

    return write


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


# --- config files ----------------------------------------------------------------------------------------------------


def test_native_configs_pass_promtool_and_amtool(tmp_path: Path):
    changed = monitoring.prepare(tmp_path, PORTS, _writer())
    assert changed == {"prometheus": True, "alertmanager": True}
    prom = yaml.safe_load(monitoring.prometheus_file(tmp_path).read_text())
    assert prom["global"] == {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in prom["scrape_configs"]}
    assert jobs == {"controlplane-api": ["127.0.0.1:9464"], "controlplane-worker": ["127.0.0.1:9465"]}
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]
    assert prom["rule_files"] == [f"{tmp_path / 'rules'}/*.y*ml"]
    am = yaml.safe_load(monitoring.alertmanager_file(tmp_path).read_text())
    assert am["route"]["group_by"] == ["alertname", "slo"]
    assert (am["route"]["group_wait"], am["route"]["group_interval"]) == ("1s", "1s")
    assert am["receivers"][0]["webhook_configs"] == [{"url": "http://127.0.0.1:9094/", "send_resolved": True}]
    # Prometheus' and Alertmanager's own checkers (the rule file included: promtool follows rule_files)
    done = _run("promtool", "check", "config", str(monitoring.prometheus_file(tmp_path)))
    assert done.returncode == 0 and "1 rules found" in done.stdout, done.stdout + done.stderr
    done = _run("amtool", "check-config", str(monitoring.alertmanager_file(tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_configs_are_the_generated_ones_with_service_names():
    folder = REPO / "deploy" / "compose"
    targets = {"controlplane-api": "api:9464", "controlplane-worker": "worker:9465"}
    prom = monitoring.prometheus_config(targets, "alertmanager:9093", "/etc/prometheus/dev/rules/*.y*ml")
    assert yaml.safe_load((folder / "prometheus" / "prometheus.yml").read_text()) == prom
    am = monitoring.alertmanager_config("http://alerts:9094/")
    assert yaml.safe_load((folder / "alertmanager.yml").read_text()) == am
    assert _run("promtool", "check", "config", str(folder / "prometheus" / "prometheus.yml")).returncode == 0
    assert _run("amtool", "check-config", str(folder / "alertmanager.yml")).returncode == 0
    assert compose.rules_dir(REPO) == folder / "prometheus" / "rules"
    assert compose.rules_dir(REPO).is_dir()


def test_prepare_reports_what_changed(tmp_path: Path):
    monitoring.prepare(tmp_path, PORTS, _writer())
    assert monitoring.prepare(tmp_path, PORTS, _writer()) == {"prometheus": False, "alertmanager": False}
    moved = {**PORTS, "api_metrics": 19464}
    assert monitoring.prepare(tmp_path, moved, _writer()) == {"prometheus": True, "alertmanager": False}
    assert monitoring.prepare(tmp_path, moved, _writer(RULE.replace("vector(1)", "vector(0)")))["prometheus"]
    assert monitoring.prepare(tmp_path, {**moved, "alerts": 19094}, _writer()) == {
        "prometheus": True,
        "alertmanager": True,
    }


def test_sync_rules_keeps_exactly_the_rule_files(tmp_path: Path):
    target, scratch = tmp_path / "rules", tmp_path / "scratch"
    target.mkdir()
    (target / "README.md").write_text("not a rule file")
    (target / "old.rules.yml").write_text("groups: []\n")
    assert monitoring.sync_rules(target, _writer(), scratch=scratch) is True
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "dev-slo.rules.yml"]  # dashboards stay out
    assert monitoring.sync_rules(target, _writer(), scratch=scratch) is False
    assert monitoring.sync_rules(target, None, scratch=scratch) is True
    assert sorted(p.name for p in target.iterdir()) == ["README.md"]

    def twice(out: Path) -> list[Path]:
        (out / "a").mkdir()
        (out / "b").mkdir()
        return [*_writer()(out / "a"), *_writer()(out / "b")]

    with pytest.raises(ConfigError, match=r"two rule files named dev-slo\.rules\.yml"):
        monitoring.sync_rules(target, twice, scratch=scratch)


def test_reload_only_what_changed_and_runs(tmp_path: Path, monkeypatch):
    reloaded = []
    monkeypatch.setattr(ls, "reload", lambda r: reloaded.append(r.name))
    r = ls.Running("prometheus", 1, "127.0.0.1", 9090, tmp_path / "p.log", {"url": "http://127.0.0.1:9090"})
    services = {"prometheus": r.to_dict()}
    assert monitoring.reload_changed(tmp_path, services, {"prometheus": False, "alertmanager": True}) == []
    assert monitoring.reload_changed(tmp_path, services, {"prometheus": True, "alertmanager": True}) == ["prometheus"]
    assert reloaded == ["prometheus"]


def test_a_refused_reload_makes_the_next_up_retry(tmp_path: Path, monkeypatch):
    def refuse(r):
        raise ConfigError("prometheus refused the new config: bad rule")

    monkeypatch.setattr(ls, "reload", refuse)
    monitoring.prepare(tmp_path, PORTS, _writer())
    r = ls.Running("prometheus", 1, "127.0.0.1", 9090, tmp_path / "p.log", {"url": "http://127.0.0.1:9090"})
    with pytest.raises(ConfigError, match="bad rule"):
        monitoring.reload_changed(tmp_path, {"prometheus": r.to_dict()}, {"prometheus": True})
    assert monitoring.prepare(tmp_path, PORTS, _writer())["prometheus"] is True  # unchanged rules: still retried


def test_a_refused_reload_is_a_config_error_with_the_services_message():
    def handler(status: int, body: bytes):
        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        return H

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(500, b"failed to reload config: bad rule"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/-/reload"
        with pytest.raises(ConfigError, match="prometheus refused the new config: failed to reload config: bad rule"):
            ls.reload_url("prometheus", url)
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ExternalToolError, match="cannot reach"):
        ls.reload_url("alertmanager", f"http://127.0.0.1:{ls.free_port()}/-/reload")


def test_missing_binaries_name_the_debian_package(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExternalToolError) as info:
        monitoring.require_binaries()
    assert info.value.message == "prometheus not found"
    assert "apt-get install --no-install-recommends prometheus" in (info.value.hint or "")
    with pytest.raises(ExternalToolError, match="prometheus-alertmanager not found") as info:
        ls.start_alertmanager(tmp_path, ls.free_port(), tmp_path / "am.yml")
    assert "Debian's prometheus-alertmanager package" in (info.value.hint or "")


# --- the environment contract of the app -----------------------------------------------------------------------------


def test_the_app_gets_its_metrics_port_and_the_api_the_fault_switch(tmp_path: Path):
    faults = tmp_path / "faults.json"
    api = contract.env_contract(PORTS, "t", service="api", faults_file=faults)
    worker = contract.env_contract(PORTS, "t", service="worker", faults_file=faults)
    assert (api["CONTROLPLANE_METRICS_HOST"], api["CONTROLPLANE_METRICS_PORT"]) == ("127.0.0.1", "9464")
    assert (worker["CONTROLPLANE_METRICS_HOST"], worker["CONTROLPLANE_METRICS_PORT"]) == ("127.0.0.1", "9465")
    assert api["CONTROLPLANE_FAULTS_FILE"] == str(faults) and "CONTROLPLANE_FAULTS_FILE" not in worker
    migrate = contract.env_contract(PORTS, "t", service="migrate", faults_file=faults)
    assert not {k for k in migrate if k.startswith(("CONTROLPLANE_METRICS", "CONTROLPLANE_FAULTS"))}
    old_state_ports = {k: v for k, v in PORTS.items() if not k.endswith("_metrics")}
    assert "CONTROLPLANE_METRICS_PORT" not in contract.env_contract(old_state_ports, "t", service="api")


# --- the fault switch ------------------------------------------------------------------------------------------------


def test_fault_switch_set_show_clear(tmp_path: Path):
    assert monitoring.set_faults(tmp_path).faults is None
    switch = monitoring.set_faults(tmp_path, error_rate=0.5, routes=["/v1/runs"])
    assert switch.changed and switch.file == str(tmp_path / "faults.json")
    assert json.loads((tmp_path / "faults.json").read_text()) == {
        "error_rate": 0.5,
        "latency_ms": 0,
        "routes": ["/v1/runs"],
    }
    shown = monitoring.set_faults(tmp_path)
    assert not shown.changed and shown.faults == switch.faults
    latency = monitoring.set_faults(tmp_path, latency_ms=250)  # replaces the previous fault entirely
    assert json.loads((tmp_path / "faults.json").read_text()) == {"error_rate": 0.0, "latency_ms": 250}
    assert latency.faults is not None and latency.faults.routes is None
    assert monitoring.set_faults(tmp_path, clear=True).changed is True
    assert not (tmp_path / "faults.json").exists()
    assert monitoring.set_faults(tmp_path, clear=True).changed is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"error_rate": 1.5}, "error_rate: Input should be less than or equal to 1"),
        ({"latency_ms": -1}, "latency_ms: Input should be greater than or equal to 0"),
        ({"error_rate": 0.0}, "nothing to inject"),
        ({"error_rate": 0.1, "routes": ["v1/runs"]}, "a route is a path"),
        ({"error_rate": 0.1, "clear": True}, "--clear takes no other option"),
    ],
)
def test_fault_switch_refuses_bad_values(tmp_path: Path, kwargs, message):
    with pytest.raises(UsageError, match=message):
        monitoring.set_faults(tmp_path, **kwargs)
    assert not (tmp_path / "faults.json").exists()


def test_a_corrupt_fault_file_is_a_config_error(tmp_path: Path):
    (tmp_path / "faults.json").write_text('{"error_rate": "lots"}')
    with pytest.raises(ConfigError, match="not a fault file"):
        monitoring.read_faults(tmp_path)


def test_the_fault_switch_is_native_only(tmp_path: Path):
    directory = statefile.dev_dir(tmp_path)
    directory.mkdir()
    statefile.save_state(directory, {**statefile.empty_state(), "mode": "docker"})
    with pytest.raises(UsageError, match="native dev stack"):
        devstack.fault(tmp_path, error_rate=0.5)


def test_cli_fault(invoke, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path))
    file = tmp_path / "dev" / "faults.json"
    out = invoke("dev", "fault", "--error-rate", "0.25", "--route", "/v1/runs", "--route", "/v1/tenants").stdout
    assert out.strip() == f"fault set: error_rate=0.25 latency_ms=0 routes=/v1/runs,/v1/tenants ({file})"
    assert "fault in place: error_rate=0.25" in invoke("dev", "fault").stdout
    data = json.loads(invoke("dev", "fault", "--json").stdout)
    assert data["faults"]["routes"] == ["/v1/runs", "/v1/tenants"] and data["changed"] is False
    assert "Invalid value" in invoke("dev", "fault", "--error-rate", "2", code=2).stderr
    assert invoke("dev", "fault", "--clear").stdout.strip() == f"no fault (cleared): {file}"
    assert invoke("dev", "fault").stdout.strip() == f"no fault set: {file}"
    assert "--clear takes no other option" in invoke("dev", "fault", "--clear", "--latency-ms", "5", code=2).stderr


def test_purge_removes_the_monitoring_data(tmp_path: Path):
    for folder in ("prometheus-data", "alertmanager-data"):
        (tmp_path / folder / "wal").mkdir(parents=True)
    (tmp_path / "alerts.jsonl").write_text("{}\n")
    monitoring.set_faults(tmp_path, error_rate=1)
    assert monitoring.purge(tmp_path) == ["prometheus", "alertmanager", "alerts", "faults"]
    assert monitoring.purge(tmp_path) == []


# --- the alert receiver ----------------------------------------------------------------------------------------------

PAYLOAD = {
    "version": "4",
    "receiver": "dev-alerts",
    "groupKey": '{}:{alertname="ApiAvailabilityBudgetBurnPage", slo="api-availability"}',
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "ApiAvailabilityBudgetBurnPage", "slo": "api-availability", "severity": "page"},
            "annotations": {"runbook_url": "https://example.invalid/docs/runbooks/api-availability.md"},
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": "abc",
        },
        {"status": "resolved", "labels": {"alertname": "Other"}, "annotations": None, "startsAt": "x", "endsAt": "y"},
    ],
}


def test_alert_records():
    records = alert_receiver.alert_records(PAYLOAD, "2026-01-01T00:00:01Z")
    assert [r["status"] for r in records] == ["firing", "resolved"]
    first = records[0]
    assert first["labels"]["slo"] == "api-availability" and first["annotations"]["runbook_url"].endswith(".md")
    assert (first["receiver"], first["receivedAt"], first["fingerprint"]) == (
        "dev-alerts",
        "2026-01-01T00:00:01Z",
        "abc",
    )
    assert records[1]["annotations"] == {}
    with pytest.raises(ValueError, match="no `alerts` list"):
        alert_receiver.alert_records({"status": "firing"}, "now")


def test_alert_receiver_over_http(tmp_path: Path):
    out = tmp_path / "alerts.jsonl"
    server = alert_receiver.serve("127.0.0.1", 0, out)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(path: str, body: bytes | None = None) -> tuple[int, object]:
        request = urllib.request.Request(base + path, data=body, method="POST" if body is not None else "GET")
        try:
            with opener.open(request, timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    try:
        assert call("/healthz") == (200, {"status": "ok"})
        assert call("/", json.dumps(PAYLOAD).encode()) == (200, {"received": 2})
        assert call("/", b"not json")[0] == 400
        status, alerts = call("/alerts")
        assert status == 200 and [a["labels"]["alertname"] for a in alerts] == [
            "ApiAvailabilityBudgetBurnPage",
            "Other",
        ]
        assert [a["status"] for a in call("/alerts?status=resolved")[1]] == ["resolved"]
        assert len(call("/alerts?alertname=ApiAvailabilityBudgetBurnPage")[1]) == 1
        assert call("/nowhere")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
    assert len(alert_receiver.read_alerts(out)) == 2
