"""The SLOs on a running dev stack (native mode): Prometheus scrapes the real api and worker and evaluates the rules
`infractl slo render dev` makes, Alertmanager routes to the local webhook receiver.

- one request's trace id is found in the spans received, in the api's log records, and as an exemplar on the
  latency histogram queried from Prometheus (cross-signal correlation);
- every dashboard panel's query runs on that Prometheus without error;
- errors injected through the api's fault switch fire the api-availability page alert, which reaches the webhook
  receiver with its runbook link; the fault removed, the alert resolves.
Bounded in time, polling (no fixed sleeps)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controlplane.devtools.otlp_receiver import read_jsonl
from infractl.services import context, environments, slo
from infractl.services.dev import statefile
from infractl.services.slo.dashboards import queries
from tests import dev_stack
from tests.conftest import REPO

pytestmark = pytest.mark.integration

RUN_ROUTE = "/v1/tenants/{tenant}/runs/{run_id}"
FIRE_TIMEOUT_S = 180.0
RESOLVE_TIMEOUT_S = 240.0


def _http(url: str, data: bytes | None = None, method: str | None = None) -> tuple[int, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with opener.open(req, timeout=10) as resp:
            body = resp.read().decode()
            return resp.status, (json.loads(body) if body.strip().startswith(("{", "[")) else body)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _poll(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not seen within {timeout:.0f} s")
        time.sleep(interval)


class Stack:
    def __init__(self, data: dict[str, Any], work: Path) -> None:
        self.services = {s["name"]: s for s in data["services"]}
        self.work = work
        self.dev = statefile.dev_dir(work)

    def url(self, name: str) -> str:
        return f"http://{self.services[name]['address']}"

    def prom(self, path: str, **params: str) -> Any:
        code, body = _http(f"{self.url('prometheus')}{path}?{urllib.parse.urlencode(params)}")
        assert code == 200, (path, params, body)
        assert body["status"] == "success", body
        return body["data"]

    def received_alerts(self, alertname: str, status: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"alertname": alertname, "status": status})
        code, body = _http(f"{self.url('alerts')}/alerts?{query}")
        assert code == 200, body
        return body if isinstance(body, list) else body.get("alerts", [])


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("slo-live") / "work"
    with dev_stack.running(work) as data:
        yield Stack(data, work)


# ---------------------------------------------------------------- one request, three signals


def test_one_requests_trace_is_in_the_spans_the_log_records_and_an_exemplar_in_prometheus(stack):
    tenant = f"corr-{uuid.uuid4().hex[:8]}"
    run_id = uuid.uuid4()
    code, _ = _http(f"{stack.url('api')}/v1/tenants/{tenant}/runs/{run_id}")
    assert code == 404  # an unknown run: the request is served, traced, logged and measured like any other

    out = Path(statefile.load_state(stack.dev)["services"]["otlp"]["extra"]["out"])

    def server_span():
        return [
            s
            for s in read_jsonl(out, "span")
            if s["kind"] == "SERVER" and any(str(run_id) in str(v) for v in s["attributes"].values())
        ]

    (span,) = _poll(server_span, 30, "the request's server span at the OTLP receiver")
    trace_id = span["trace_id"]
    # the spans: the server span and what it did (the SQL read) share the trace
    assert len([s for s in read_jsonl(out, "span") if s["trace_id"] == trace_id]) >= 2

    # the log records: exported over OTLP with the trace id, and written as lines with it
    logs = _poll(
        lambda: [r for r in read_jsonl(out, "log") if r["trace_id"] == trace_id],
        30,
        "the request's log records at the OTLP receiver",
    )
    assert any(str(run_id) in r["body"] for r in logs), logs
    assert f"trace={trace_id}" in (stack.dev / "api.log").read_text()

    # the metric: the latency histogram's exemplar, stored by Prometheus (exemplar storage on) and queried back
    def exemplar():
        now = time.time()
        data = stack.prom(
            "/api/v1/query_exemplars",
            query="controlplane_http_request_duration_seconds_bucket",
            start=str(now - 600),
            end=str(now + 60),
        )
        return [
            e
            for series in data
            for e in series["exemplars"]
            if e["labels"].get("trace_id") == trace_id
            and series["seriesLabels"].get("route") == "/v1/tenants/{tenant}/runs/{run_id}"
        ]

    (found,) = _poll(exemplar, 60, "the request's exemplar in Prometheus")
    assert found["labels"]["span_id"] == span["span_id"]


# ---------------------------------------------------------------- dashboards


def test_every_dashboard_panel_query_runs_on_the_live_prometheus(stack):
    env = environments.load(context.build(root=REPO).project, "dev")
    boards = slo.dashboards(slo.load(REPO, env))
    assert boards
    checked = 0
    for stem, board in boards.items():
        for expr in queries(board):
            data = stack.prom("/api/v1/query", query=expr)  # asserts status success
            assert "resultType" in data, (stem, expr)
            checked += 1
    assert checked >= 20
    # and the SLO series themselves are computed from the live metrics: the api's ratio has a value
    _http(f"{stack.url('api')}/v1/tenants/acme/runs/{uuid.uuid4()}")
    _poll(
        lambda: stack.prom("/api/v1/query", query='slo:sli_error:ratio_rate20s{slo="api-availability"}')["result"],
        30,
        "a value of the api-availability recording rule",
    )


# ---------------------------------------------------------------- the page alert, live


def _traffic(stack: Stack, halt: threading.Event, counts: dict[str, int]) -> None:
    """Requests at a steady pace until halted, counting the answers by status class."""
    while not halt.is_set():
        code, _ = _http(f"{stack.url('api')}/v1/tenants/acme/runs/{uuid.uuid4()}")
        counts[f"{code // 100}xx"] = counts.get(f"{code // 100}xx", 0) + 1
        halt.wait(0.05)


def test_errors_fire_the_availability_page_with_its_runbook_and_it_resolves(stack):
    alert = "ApiAvailabilityBudgetBurnPage"
    counts: dict[str, int] = {}
    halt = threading.Event()
    sender = threading.Thread(target=_traffic, args=(stack, halt, counts), daemon=True)
    sender.start()
    try:
        dev_stack.cli_json("dev", "fault", "--error-rate", "1", "--json")

        fired = _poll(lambda: stack.received_alerts(alert, "firing"), FIRE_TIMEOUT_S, f"{alert} firing at the receiver")
        first = fired[0]
        assert counts.get("5xx", 0) > 0
        assert first["labels"]["severity"] == "page"
        assert first["labels"]["slo"] == "api-availability" and first["labels"]["env"] == "dev"
        url = first["annotations"]["runbook_url"]
        rel = url.split("/blob/main/", 1)[1]
        assert rel.startswith("docs/runbooks/") and alert in (REPO / rel).read_text(), url

        dev_stack.cli_json("dev", "fault", "--clear", "--json")
        healthy_from = counts.get("2xx", 0) + counts.get("4xx", 0)

        _poll(lambda: stack.received_alerts(alert, "resolved"), RESOLVE_TIMEOUT_S, f"{alert} resolved at the receiver")
        assert counts.get("2xx", 0) + counts.get("4xx", 0) > healthy_from  # healthy answers after the fault went
    finally:
        halt.set()
        sender.join(10)
        dev_stack.cli_json("dev", "fault", "--clear", "--json")
