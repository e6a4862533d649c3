"""The telemetry pieces without a stack: the metric families and their exposition, route labels, the fault switch,
the exported log records, and the evidence chain check's rounds on an in-memory ledger (the real one is in
test_telemetry.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from controlplane import faults, metrics
from controlplane.chaincheck import ChainCheck, check_rows
from controlplane.ledger import chain, store
from controlplane.redaction import SecretRegistry

TRACE_ID, SPAN_ID = 0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331
OPENMETRICS = "application/openmetrics-text;version=1.0.0"


def _in_span():
    span = NonRecordingSpan(SpanContext(TRACE_ID, SPAN_ID, is_remote=False, trace_flags=TraceFlags(1)))
    return trace.use_span(span)


def _families(registry) -> dict[str, Any]:
    encoder, content_type = choose_encoder(OPENMETRICS)
    assert content_type.startswith("application/openmetrics-text")
    return {f.name: f for f in text_string_to_metric_families(encoder(registry).decode())}


# ---------------------------------------------------------------- families and exposition


PROCESS = {"process_cpu_seconds", "process_resident_memory_bytes"}  # prometheus-client's process collector


def test_api_families_labels_buckets_and_an_exemplar_of_the_current_span():
    m = metrics.ApiMetrics()
    with _in_span():
        m.request("/v1/tenants/{tenant}/runs", "POST", 202, 0.03)
    m.request("/v1/tenants/{tenant}/runs", "BREW", 503, 0.2)  # outside a span: no exemplar; odd methods -> other
    m.runs_started.labels("evidence").inc()
    families = _families(m.registry)
    assert set(families) >= PROCESS  # what `infractl cost rightsize` sizes the pod from
    assert {f for f in families if not f.startswith("process_")} == {
        "controlplane_http_requests",
        "controlplane_http_request_duration_seconds",
        "controlplane_runs_started",
    }
    requests = {tuple(sorted(s.labels.items())): s.value for s in families["controlplane_http_requests"].samples}
    assert requests == {
        (("code", "202"), ("method", "POST"), ("route", "/v1/tenants/{tenant}/runs")): 1.0,
        (("code", "503"), ("method", "other"), ("route", "/v1/tenants/{tenant}/runs")): 1.0,
    }
    buckets = [s for s in families["controlplane_http_request_duration_seconds"].samples if s.name.endswith("_bucket")]
    post = [s for s in buckets if s.labels["method"] == "POST"]
    assert [float(s.labels["le"]) for s in post] == [*metrics.HTTP_BUCKETS, float("inf")]
    (with_exemplar,) = [s for s in post if s.exemplar]
    assert with_exemplar.labels["le"] == "0.05"
    assert with_exemplar.exemplar.labels == {"trace_id": f"{TRACE_ID:032x}", "span_id": f"{SPAN_ID:016x}"}
    assert not any(s.exemplar for s in buckets if s.labels["method"] == "other")
    # the plain text format (no Accept) has no exemplars and no *_created series
    encoder, _ = choose_encoder("")
    text = encoder(m.registry).decode()
    assert "trace_id" not in text and "_created" not in text


def test_worker_families_start_at_zero_and_count_what_they_are_told():
    m = metrics.WorkerMetrics(workflows=["RunWorkflow"])
    families = _families(m.registry)
    assert set(families) >= PROCESS
    assert {f for f in families if not f.startswith("process_")} == {
        "controlplane_workflow_completions",
        "controlplane_workflow_duration_seconds",
        "controlplane_activity_executions",
        "controlplane_activity_duration_seconds",
        "controlplane_outbox_published",
        "controlplane_evidence_verifications",
        "controlplane_evidence_verify_last_success_timestamp_seconds",
    }
    zero = {(s.name, tuple(sorted(s.labels.items()))) for s in families["controlplane_evidence_verifications"].samples}
    assert zero == {
        ("controlplane_evidence_verifications_total", (("outcome", "ok"),)),
        ("controlplane_evidence_verifications_total", (("outcome", "broken"),)),
    }
    with _in_span():
        m.workflow_finished("RunWorkflow", "completed", 7.0)
        m.activity_attempt("record_run", "failure", 0.02)
    m.evidence_checked(False)
    m.evidence_checked(True)
    families = _families(m.registry)
    wf = [s for s in families["controlplane_workflow_duration_seconds"].samples if s.name.endswith("_bucket")]
    assert [float(s.labels["le"]) for s in wf] == [*metrics.WORKFLOW_BUCKETS, float("inf")]
    assert [s.labels["le"] for s in wf if s.exemplar] == ["10.0"]
    act = [s for s in families["controlplane_activity_duration_seconds"].samples if s.name.endswith("_bucket")]
    assert [float(s.labels["le"]) for s in act] == [*metrics.ACTIVITY_BUCKETS, float("inf")]
    verifications = {s.labels["outcome"]: s.value for s in families["controlplane_evidence_verifications"].samples}
    assert verifications == {"ok": 1.0, "broken": 1.0}
    assert families["controlplane_evidence_verify_last_success_timestamp_seconds"].samples[0].value > 0


def test_registries_are_separate_and_the_server_answers_openmetrics_when_asked():
    import httpx

    first, second = metrics.ApiMetrics(), metrics.ApiMetrics()  # no clash: neither is the global registry
    first.runs_started.labels("a").inc()
    server = metrics.serve(first.registry, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        plain = httpx.get(url, trust_env=False)
        om = httpx.get(url, headers={"Accept": OPENMETRICS}, trust_env=False)
    finally:
        server.stop()
    assert plain.headers["content-type"].startswith("text/plain")
    assert om.headers["content-type"].startswith("application/openmetrics-text") and om.text.endswith("# EOF\n")
    assert 'controlplane_runs_started_total{kind="a"} 1.0' in om.text
    assert not list(_families(second.registry)["controlplane_runs_started"].samples)
    with pytest.raises(metrics.MetricsServerError, match="cannot serve metrics"):
        busy = metrics.serve(first.registry, "127.0.0.1", 0)
        try:
            metrics.serve(first.registry, "127.0.0.1", busy.port)
        finally:
            busy.stop()


# ---------------------------------------------------------------- route labels and the fault switch


async def _ok(request):
    return PlainTextResponse("ok")


ROUTES = [
    Route("/livez", _ok),
    Route("/v1/tenants/{tenant}/runs/{run_id}", _ok),
    Route("/v1/tenants/{tenant}/runs", _ok, methods=["POST"]),
]


class _Client:
    """Synchronous calls into an ASGI app through httpx's ASGI transport (no server)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://api") as c:
                return await c.request(method, path)

        return asyncio.run(call())

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str) -> httpx.Response:
        return self.request("POST", path)


def _app(tmp_path: Path, rng: random.Random | None = None) -> tuple[_Client, metrics.ApiMetrics, Path]:
    m = metrics.ApiMetrics()
    path = tmp_path / "faults.json"
    app = Starlette(routes=ROUTES)
    app.add_middleware(faults.FaultSwitch, path=path, routes=ROUTES, rng=rng)
    app.add_middleware(metrics.RequestMetrics, metrics=m, routes=ROUTES)
    return _Client(app), m, path


def _counts(m: metrics.ApiMetrics) -> dict[tuple[str, str, str], float]:
    samples = _families(m.registry)["controlplane_http_requests"].samples
    return {(s.labels["route"], s.labels["method"], s.labels["code"]): s.value for s in samples}


def _write(path: Path, config: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config))
    os.replace(tmp, path)


def test_routes_are_labelled_by_template_probes_are_not_counted_and_faults_are(tmp_path, caplog):
    client, m, path = _app(tmp_path, random.Random(7))
    assert client.get("/v1/tenants/acme/runs/r1").status_code == 200
    assert client.get("/livez").status_code == 200
    assert client.get("/elsewhere/secret-path").status_code == 404
    assert client.get("/v1/tenants/acme/runs").status_code == 405  # the path matches, the method does not
    with caplog.at_level(logging.WARNING, logger="controlplane.faults"):
        _write(path, {"error_rate": 1.0, "routes": ["/v1/tenants/{tenant}/runs/{run_id}"]})
        answer = client.get("/v1/tenants/acme/runs/r2")
        assert client.get("/livez").status_code == 200  # never a probe
        assert client.post("/v1/tenants/acme/runs").status_code == 200  # not a listed route
        _write(path, {"error_rate": 0.5})  # half of every route's requests (seeded)
        codes = [client.get("/v1/tenants/acme/runs/r3").status_code for _ in range(40)]
        path.unlink()
        assert client.get("/v1/tenants/acme/runs/r4").status_code == 200
    assert answer.status_code == 503 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {"title": "Service Unavailable", "status": 503, "detail": "fault injected"}
    assert 10 < codes.count(503) < 30 and set(codes) == {200, 503}
    counts = _counts(m)
    template = "/v1/tenants/{tenant}/runs/{run_id}"
    assert counts[(template, "GET", "503")] == 1 + codes.count(503)
    assert counts[(template, "GET", "200")] == 2 + codes.count(200)
    assert counts[("unmatched", "GET", "404")] == 1 and counts[("/v1/tenants/{tenant}/runs", "GET", "405")] == 1
    assert not any(route in ("/livez", "/readyz") for route, _, _ in counts)
    changes = [r.getMessage() for r in caplog.records if r.name == "controlplane.faults"]
    assert len(changes) == 3  # one line per change of the configuration, not per request
    assert "error_rate=1.0 latency_ms=0 on /v1/tenants/{tenant}/runs/{run_id}" in changes[0]
    assert "error_rate=0.5 latency_ms=0 on every route" in changes[1]
    assert "no fault injected" in changes[2]


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ([], "expected a JSON object"),
        ({"error_rate": 2}, "error_rate must be a number from 0.0 to 1.0"),
        ({"error_rate": True}, "error_rate"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"routes": "/v1"}, "routes must be a list"),
        ({"rate": 1}, "unknown keys: rate"),
    ],
)
def test_a_wrong_fault_file_is_refused_with_its_reason(config, problem):
    with pytest.raises(ValueError, match=problem):
        faults.parse(config)


def test_an_unreadable_fault_file_is_no_fault_and_says_why(tmp_path, caplog):
    path = tmp_path / "faults.json"
    path.write_text("{not json")
    source = faults.FaultSource(path)
    with caplog.at_level(logging.WARNING):
        assert source.current() == faults.NO_FAULT
        assert source.current() == faults.NO_FAULT  # unchanged file: not read (nor logged) again
    assert [r.getMessage().split(" (")[0] for r in caplog.records if r.name == "controlplane.faults"] == [
        f"fault switch: {path} is not a valid fault file"
    ]
    assert faults.parse({"latency_ms": 20}).active and not faults.parse({}).active


# ---------------------------------------------------------------- exported log records


def test_exported_log_records_carry_the_trace_and_are_redacted_and_the_exporter_is_not_fed_back(tmp_path):
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    from controlplane.telemetry import OtlpLogHandler

    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    registry = SecretRegistry()
    handler = OtlpLogHandler(provider, registry)
    logger = logging.getLogger("tests.runtime.export")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        registry.add("s3cr3t-value")
        with _in_span():
            fields = {"password": "s3cr3t-value"}  # pragma: allowlist secret
            logger.info("connected with %s", "s3cr3t-value", extra=fields)
            try:
                raise RuntimeError("login s3cr3t-value refused")
            except RuntimeError:
                logger.exception("failed")
        logger.debug("outside any span")
        token = otel_context.attach(otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            logger.warning("the exporter's own HTTP client")  # skipped: it would feed the export into itself
        finally:
            otel_context.detach(token)
        logging.getLogger("opentelemetry.sdk.test").addHandler(handler)
        logging.getLogger("opentelemetry.sdk.test").error("the SDK's own record")  # skipped too
        logging.getLogger("opentelemetry.sdk.test").removeHandler(handler)
    finally:
        logger.removeHandler(handler)
    records = [r.log_record for r in exporter.get_finished_logs()]
    assert [r.body for r in records] == ["connected with [REDACTED]", "failed", "outside any span"]
    info, failed, debug = records
    assert (info.trace_id, info.span_id) == (TRACE_ID, SPAN_ID)
    assert info.severity_text == "INFO" and info.severity_number.name == "INFO"
    assert "password" not in info.attributes  # no free-form extras
    assert failed.attributes["exception.type"] == "RuntimeError"
    assert failed.attributes["exception.message"] == "login [REDACTED] refused"
    assert "s3cr3t-value" not in failed.attributes["exception.stacktrace"]
    assert failed.severity_number.name == "ERROR"
    assert not debug.trace_id and debug.severity_number.name == "DEBUG"
    assert "s3cr3t-value" not in "".join(r.to_json() for r in exporter.get_finished_logs())


# ---------------------------------------------------------------- the evidence chain check on an in-memory ledger


def _ledger(n: int, after: list[chain.Entry] | None = None) -> list[chain.Entry]:
    """n entries chained after `after` (or from the start)."""
    entries = list(after or [])
    prev = entries[-1].entry_hash if entries else chain.GENESIS
    for i in range(len(entries) + 1, len(entries) + n + 1):
        entry = chain.seal(i, prev, chain.timestamp(), chain.NewEntry(tenant="acme", kind="run.evidence", actor="t"))
        entries.append(entry)
        prev = entry.entry_hash
    return entries[len(after or []) :]


def _row(entry: chain.Entry) -> tuple:
    return tuple(getattr(entry, c) for c in store.COLUMNS)


class FakeLedger:
    """The two queries ChainCheck makes, on a list of rows, behind an async pool-like object."""

    def __init__(self, entries: list[chain.Entry]) -> None:
        self.rows = {e.seq: _row(e) for e in entries}
        self.head = (entries[-1].seq, entries[-1].entry_hash) if entries else (0, chain.GENESIS)

    def edit(self, seq: int, **fields: Any) -> None:
        row = dict(zip(store.COLUMNS, self.rows[seq], strict=True)) | fields
        self.rows[seq] = tuple(row[c] for c in store.COLUMNS)

    def connection(self):
        ledger = self

        class Conn:
            async def __aenter__(self):
                return self

            async def __aexit__(self, *exc):
                return False

            async def execute(self, sql, params=()):
                if "evidence_head" in sql:
                    result = [ledger.head]
                else:
                    lo, hi = params
                    result = [ledger.rows[s] for s in sorted(ledger.rows) if lo <= s <= hi]

                class Cur:
                    async def fetchone(self):
                        return result[0]

                    async def fetchall(self):
                        return result

                return Cur()

        return Conn()


def _rounds(check: ChainCheck, n: int, seen: list | None = None) -> list[tuple[bool, int | None]]:
    async def go():
        return [await check.round() for _ in range(n)]

    results = [(r.broken is None, r.broken.seq if r.broken else None) for r in asyncio.run(go())]
    if seen is not None:
        seen.extend(results)
    return results


def test_check_rows_names_an_edit_a_broken_link_and_a_gap():
    entries = _ledger(4)
    rows = [_row(e) for e in entries]
    assert check_rows(rows, 0, chain.GENESIS) == ([e.entry_hash for e in entries], None)
    edited = list(rows)
    edited[1] = _row(chain.Entry(**{**entries[1].__dict__, "tenant": "forged"}))
    hashes, broken = check_rows(edited, 0, chain.GENESIS)
    assert len(hashes) == 1 and (broken.seq, "edited" in broken.reason) == (2, True)
    assert check_rows(rows[2:], 1, entries[0].entry_hash)[1].reason == "entries 2..2 are missing"
    assert check_rows(rows[1:], 1, "f" * 64)[1].reason == "prev_hash is not the hash of entry 1"


def test_chain_check_rounds_find_edits_behind_and_ahead_keep_reporting_them_and_recover(caplog):
    entries = _ledger(10)
    ledger = FakeLedger(entries)
    m = metrics.WorkerMetrics()
    check = ChainCheck(ledger, m, batch=3, sweep=4)
    seen: list[tuple[bool, int | None]] = []
    assert _rounds(check, 1, seen) == [(True, None)] and check.verified_seq == 10

    ledger.edit(2, tenant="forged")  # behind the verified position: the sweep finds it within its rounds
    with caplog.at_level(logging.ERROR, logger="controlplane.chaincheck"):
        results = _rounds(check, 5, seen)
    assert (False, 2) in results and results[-2:] == [(False, 2), (False, 2)]  # and keeps reporting it
    assert "hash chain broken at entry 2: its stored hash is not the hash of its content (edited)" in caplog.text
    ledger.edit(2, tenant="acme")
    assert _rounds(check, 1, seen) == [(True, None)]

    new = _ledger(2, entries)  # two appends, the last one's link forged
    for e in new:
        ledger.rows[e.seq] = _row(e)
    ledger.head = (12, new[-1].entry_hash)
    ledger.edit(12, prev_hash="0" * 64)
    assert _rounds(check, 2, seen) == [(False, 12), (False, 12)]
    assert check.verified_seq == 11

    ledger.edit(12, prev_hash=new[0].entry_hash)
    del ledger.rows[12]  # the last entry deleted, the head record still names it
    assert _rounds(check, 1, seen) == [(False, 12)]
    ledger.rows[12] = _row(new[1])
    assert _rounds(check, 1, seen) == [(True, None)]

    verified = check.verified_hash
    ledger.edit(12, tenant="rewritten", entry_hash="e" * 64)  # the verified anchor rewritten
    assert _rounds(check, 1, seen) == [(False, 12)] and check.verified_seq == 0 != verified
    samples = {
        s.labels["outcome"]: s.value for s in _families(m.registry)["controlplane_evidence_verifications"].samples
    }
    assert samples == {"ok": seen.count((True, None)), "broken": len(seen) - seen.count((True, None))}


def test_run_kinds_from_requests_cannot_grow_the_series_without_bound():
    from controlplane.metrics import MAX_KINDS, ApiMetrics

    m = ApiMetrics()
    for i in range(MAX_KINDS + 20):
        m.run_started(f"kind-{i}")
    m.run_started("kind-0")
    kinds = {s.labels["kind"]: s.value for s in m.runs_started.collect()[0].samples if s.name.endswith("_total")}
    assert len(kinds) == MAX_KINDS + 1 and kinds["other"] == 20 and kinds["kind-0"] == 2
