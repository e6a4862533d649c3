"""Metrics, exemplars, exported logs, the evidence chain check and the fault switch, on the real stack
(tests/runtime/conftest.py): /metrics is scraped as Prometheus scrapes it (OpenMetrics) and parsed with
prometheus_client's OpenMetrics parser; logs and spans are read back from the OTLP receiver.

Requests carry a `traceparent` the test chose, so the request's trace id is known before it is sent: it must come
back as the latency histogram's exemplar, on the server span, and on the request's exported log records."""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from typing import Any

import psycopg
import pytest

from tests.runtime.conftest import wait_for

pytestmark = pytest.mark.integration

DURATION = "controlplane_http_request_duration_seconds"
REQUESTS = "controlplane_http_requests_total"
RUN_ROUTE = "/v1/tenants/{tenant}/runs/{run_id}"


def _traceparent() -> tuple[str, dict[str, str]]:
    trace_id = secrets.token_hex(16)
    return trace_id, {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}


def _exemplars(family: Any, **labels: str) -> list[Any]:
    return [
        s.exemplar
        for s in family.samples
        if s.name.endswith("_bucket") and s.exemplar and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def test_a_request_meets_its_trace_in_the_latency_exemplar_the_server_span_and_its_exported_logs(stack):
    trace_id, headers = _traceparent()
    before = stack.sample("api", REQUESTS, route=RUN_ROUTE, method="GET", code="404")
    with stack.client() as client:
        assert client.get(f"/v1/tenants/acme/runs/{uuid.uuid4()}", headers=headers).status_code == 404
        # probes are not counted; a path no route matches is labelled `unmatched`, never with its raw path
        assert client.get("/livez").status_code == 200 and client.get("/readyz").status_code == 200
        assert client.get("/no/such/path-4711").status_code == 404

    families = stack.scrape("api")
    assert stack.sample("api", REQUESTS, route=RUN_ROUTE, method="GET", code="404") == before + 1
    routes = {s.labels["route"] for s in families["controlplane_http_requests"].samples}
    assert "unmatched" in routes and not routes & {"/livez", "/readyz"}
    assert "path-4711" not in stack.scrape_text("api")
    bounds = [s.labels["le"] for s in families[DURATION].samples if s.name.endswith("_bucket")]
    assert bounds[:12] == ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"]
    (exemplar,) = [
        e for e in _exemplars(families[DURATION], route=RUN_ROUTE, method="GET") if e.labels["trace_id"] == trace_id
    ]
    assert set(exemplar.labels) == {"trace_id", "span_id"}

    stack.telemetry.force_flush()
    spans = wait_for(lambda: [s for s in stack.spans() if s["trace_id"] == trace_id], 10, "the request's spans")
    server = next(s for s in spans if s["kind"] == "SERVER")
    assert server["attributes"]["http.route"] == RUN_ROUTE
    assert exemplar.labels["span_id"] == server["span_id"]  # the exemplar points at the request span itself

    def request_logs():
        stack.telemetry.force_flush()
        return [r for r in stack.exported_logs() if r["trace_id"] == trace_id]

    logs = wait_for(request_logs, 10, "the request's log records at the OTLP receiver")
    span_ids = {s["span_id"] for s in spans}
    assert all(r["span_id"] in span_ids for r in logs)
    access = [r for r in logs if r["scope"] == "uvicorn.access"]
    assert access and "GET /v1/tenants/acme/runs/" in access[0]["body"] and access[0]["severity"] == "INFO"
    assert access[0]["service"] == "controlplane-tests"
    assert f"trace={trace_id}" in stack.logs.text()  # and the same records as lines with the trace id


def test_a_run_moves_the_workflow_and_activity_metrics_with_the_run_trace_as_exemplar(stack):
    def value(name: str, **labels: str) -> float:
        return stack.sample("worker", name, **labels)

    wf = {"workflow": "RunWorkflow"}
    before = {
        "completed": value("controlplane_workflow_completions_total", outcome="completed", **wf),
        "duration": value("controlplane_workflow_duration_seconds_count", **wf),
        "record_ok": value("controlplane_activity_executions_total", activity="record_run", outcome="success"),
        "record_failed": value("controlplane_activity_executions_total", activity="record_run", outcome="failure"),
        "evidence_ok": value("controlplane_activity_executions_total", activity="store_evidence", outcome="success"),
        "published": value("controlplane_outbox_published_total"),
    }
    stack.faults.arm("record_run")  # its first attempt fails after committing: one failure, then one success
    trace_id, headers = _traceparent()
    with stack.client() as client:
        response = client.post("/v1/tenants/acme/runs", json={"evidence": {"metrics": True}}, headers=headers)
        assert response.status_code == 202, response.text
        stack.wait_run(client, response.json()["links"]["self"])

    wait_for(lambda: value("controlplane_outbox_published_total") >= before["published"] + 2, 10, "the relay's events")
    assert value("controlplane_workflow_completions_total", outcome="completed", **wf) == before["completed"] + 1
    assert value("controlplane_workflow_duration_seconds_count", **wf) == before["duration"] + 1
    assert value("controlplane_activity_executions_total", activity="record_run", outcome="failure") == (
        before["record_failed"] + 1
    )
    assert value("controlplane_activity_executions_total", activity="record_run", outcome="success") == (
        before["record_ok"] + 1
    )
    assert value("controlplane_activity_executions_total", activity="store_evidence", outcome="success") == (
        before["evidence_ok"] + 1
    )
    families = stack.scrape("worker")
    assert any(e.labels["trace_id"] == trace_id for e in _exemplars(families["controlplane_workflow_duration_seconds"]))
    activity_traces = {
        e.labels["trace_id"]
        for e in _exemplars(families["controlplane_activity_duration_seconds"], activity="record_run")
    }
    assert trace_id in activity_traces
    completions = {tuple(sorted(s.labels.items())) for s in families["controlplane_workflow_completions"].samples}
    assert (("outcome", "failed"), ("workflow", "RunWorkflow")) in completions  # there from the start, at 0
    assert stack.sample("api", "controlplane_runs_started_total", kind="evidence") >= 1


def _admin(stack) -> psycopg.Connection:
    url = stack.admin_url.rsplit("/", 1)[0] + "/" + stack.settings.db_name
    return psycopg.connect(url, autocommit=True)


def _set_tenant(stack, seq: int, tenant: str) -> None:
    """Edit a ledger entry as a superuser can: with the append-only trigger disabled for the transaction."""
    with _admin(stack) as conn, conn.transaction():
        conn.execute("ALTER TABLE evidence_entries DISABLE TRIGGER evidence_entries_no_change")
        conn.execute("UPDATE evidence_entries SET tenant = %s WHERE seq = %s", (tenant, seq))
        conn.execute("ALTER TABLE evidence_entries ENABLE TRIGGER evidence_entries_no_change")


def test_the_evidence_chain_check_reports_ok_then_broken_for_a_forged_entry_until_it_is_restored(stack):
    ok = {"outcome": "ok"}
    broken = {"outcome": "broken"}
    name = "controlplane_evidence_verifications_total"
    gauge = "controlplane_evidence_verify_last_success_timestamp_seconds"
    if not stack.sql("SELECT 1 FROM evidence_entries LIMIT 1"):
        with stack.client() as client:
            stack.wait_run(client, client.post("/v1/tenants/acme/runs", json={}).json()["links"]["self"])
    ((seq, tenant),) = stack.sql("SELECT seq, tenant FROM evidence_entries ORDER BY seq LIMIT 1")
    start_ok = stack.sample("worker", name, **ok)
    wait_for(lambda: stack.sample("worker", name, **ok) > start_ok, 10, "an ok chain check")
    assert stack.sample("worker", name, **broken) == 0
    assert time.time() - stack.sample("worker", gauge) < 30

    _set_tenant(stack, seq, "forged")
    try:
        first = wait_for(lambda: stack.sample("worker", name, **broken), 10, "a broken chain check")
        last_success = stack.sample("worker", gauge)
        wait_for(lambda: stack.sample("worker", name, **broken) >= first + 2, 10, "the chain reported broken again")
        assert stack.sample("worker", gauge) == last_success  # no success while it is broken
        assert f"hash chain broken at entry {seq}" in stack.logs.text()
    finally:
        _set_tenant(stack, seq, tenant)
    ok_again = stack.sample("worker", name, **ok)
    wait_for(lambda: stack.sample("worker", name, **ok) > ok_again + 1, 10, "ok checks once the entry is restored")
    assert stack.sample("worker", gauge) > last_success


def _write_faults(stack, config: dict[str, Any]) -> None:
    tmp = stack.faults_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(config))
    os.replace(tmp, stack.faults_file)  # a new file: seen at once, whatever the clock's granularity


def test_the_fault_switch_answers_counted_503s_and_its_removal_heals(stack):
    url = f"/v1/tenants/acme/runs/{uuid.uuid4()}"
    before = stack.sample("api", REQUESTS, route=RUN_ROUTE, method="GET", code="503")
    try:
        _write_faults(stack, {"error_rate": 1.0, "routes": [RUN_ROUTE]})
        with stack.client() as client:
            answers = [client.get(url) for _ in range(5)]
            assert [a.status_code for a in answers] == [503] * 5
            assert answers[0].headers["content-type"] == "application/problem+json"
            assert answers[0].json()["detail"] == "fault injected"
            assert client.get("/readyz").status_code == 200  # probes are never touched
            assert client.post("/v1/tenants/acme/runs", json={"kind": "x("}).status_code == 422  # other routes
        assert stack.sample("api", REQUESTS, route=RUN_ROUTE, method="GET", code="503") == before + 5
        assert "fault switch: injecting faults from" in stack.logs.text()

        _write_faults(stack, {"latency_ms": 300})
        with stack.client() as client:
            began = time.monotonic()
            assert client.get(url).status_code == 404
            assert time.monotonic() - began >= 0.3
    finally:
        stack.faults_file.unlink(missing_ok=True)
    with stack.client() as client:
        assert client.get(url).status_code == 404
    assert stack.sample("api", REQUESTS, route=RUN_ROUTE, method="GET", code="503") == before + 5
    assert "fault switch: no fault injected" in stack.logs.text()
