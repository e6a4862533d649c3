"""The local OTLP/HTTP receiver over the wire: protobuf from the SDK exporters, OTLP/JSON, gzip, bad bodies."""

from __future__ import annotations

import gzip
import json
import threading
import urllib.error
import urllib.request

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from controlplane.devtools import otlp_receiver


@pytest.fixture
def receiver(tmp_path):
    server = otlp_receiver.serve("127.0.0.1", 0, tmp_path / "out.jsonl")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_spans_and_metrics_from_the_sdk_exporters_become_json_lines(receiver):
    server, url = receiver
    resource = Resource.create({"service.name": "svc"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces", compression=Compression.Gzip))
    )
    tracer = tracer_provider.get_tracer("scope")
    with (
        tracer.start_as_current_span("parent", attributes={"k": "v", "n": 2, "l": ["a", "b"]}) as parent,
        tracer.start_as_current_span("child"),
    ):
        pass
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{url}/v1/metrics"))],
    )
    meter = meter_provider.get_meter("scope")
    meter.create_counter("requests").add(3, {"route": "/x"})
    meter.create_histogram("latency", unit="s").record(0.25)
    meter_provider.shutdown()
    tracer_provider.shutdown()

    spans = otlp_receiver.read_jsonl(server.out, "span")
    by_name = {s["name"]: s for s in spans}
    trace_id = f"{parent.get_span_context().trace_id:032x}"
    assert by_name["parent"]["trace_id"] == by_name["child"]["trace_id"] == trace_id
    assert by_name["child"]["parent_span_id"] == by_name["parent"]["span_id"]
    assert by_name["parent"]["attributes"] == {"k": "v", "n": 2, "l": ["a", "b"]}
    assert by_name["parent"]["service"] == "svc" and by_name["parent"]["scope"] == "scope"
    metrics = {m["name"]: m for m in otlp_receiver.read_jsonl(server.out, "metric")}
    assert metrics["requests"]["value"] == 3 and metrics["requests"]["attributes"] == {"route": "/x"}
    assert metrics["latency"]["type"] == "histogram" and metrics["latency"]["count"] == 1

    status, summaries = _get(f"{url}/traces")
    assert status == 200 and summaries[0]["trace_id"] == trace_id and summaries[0]["root"] == "parent"
    assert summaries[0]["spans"] == 2
    status, trace = _get(f"{url}/traces/{trace_id}")
    assert status == 200 and [s["name"] for s in trace] == ["parent", "child"]
    assert _get(f"{url}/traces/{'0' * 32}")[0] == 404
    assert _get(f"{url}/healthz") == (200, {"status": "ok"})


def test_otlp_json_with_hex_ids_and_gzip_and_bad_bodies(receiver):
    server, url = receiver
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "json-span",
                                "kind": 2,
                                "startTimeUnixNano": "1",
                                "endTimeUnixNano": "2",
                            }
                        ]
                    }
                ],
            }
        ]
    }
    data = gzip.compress(json.dumps(body).encode())
    assert _post(f"{url}/v1/traces", data, {"Content-Type": "application/json", "Content-Encoding": "gzip"}) == 200
    (span,) = otlp_receiver.read_jsonl(server.out, "span")
    assert span["trace_id"] == "5b8efff798038103d269b633813fc60c" and span["span_id"] == "eee19b7ec3c1b174"
    assert span["kind"] == "SERVER" and span["service"] == "json-svc"
    assert _post(f"{url}/v1/traces", b"\xff\x00garbage", {"Content-Type": "application/x-protobuf"}) == 400
    assert _post(f"{url}/v1/traces", b"{not json", {"Content-Type": "application/json"}) == 400
    assert _post(f"{url}/v1/nothing", b"", {"Content-Type": "application/json"}) == 404
    assert _post(f"{url}/v1/logs", b"{}", {"Content-Type": "application/json"}) == 200


def test_cli_refuses_a_busy_port_with_a_clear_message(tmp_path, receiver):
    server, _ = receiver
    code = otlp_receiver.main(["--port", str(server.server_address[1]), "--out", str(tmp_path / "x.jsonl")])
    assert code == 1
