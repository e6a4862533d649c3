"""A small OTLP/HTTP receiver for local development and tests (stands in for the OpenTelemetry Collector + Jaeger).

    python -m controlplane.devtools.otlp_receiver --host 127.0.0.1 --port 4318 --out traces.jsonl

- POST /v1/traces, /v1/metrics, /v1/logs: OTLP/HTTP bodies, protobuf (`application/x-protobuf`) or JSON
  (`application/json`), optionally gzip-encoded. Every span, metric data point and log record becomes one JSON line
  appended to --out (`"signal": "span" | "metric" | "log"`).
- GET /healthz: 200 `{"status": "ok"}`.
- GET /traces: one summary per trace id (root span, services, span count); GET /traces/<trace id>: its spans in
  start order.
  This keeps traces viewable without a Jaeger binary: `curl -s 127.0.0.1:4318/traces | python -m json.tool`.

Only the standard library plus opentelemetry-proto (the `devtools` extra).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import logging
import zlib
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2

from controlplane.devtools import jsonl_server
from controlplane.devtools.jsonl_server import JsonHandler, JsonlServer

log = logging.getLogger("controlplane.otlp_receiver")

MAX_BODY = 64 * 1024 * 1024
SPAN_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
STATUS_CODES = {0: "UNSET", 1: "OK", 2: "ERROR"}
# OTLP/JSON encodes these bytes fields as hex, protobuf's JSON mapping expects base64.
_HEX_ID_FIELDS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}

_ENDPOINTS: dict[str, tuple[type[Message], type[Message]]] = {
    "/v1/traces": (trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
    "/v1/metrics": (metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse),
    "/v1/logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
}


# ---------------------------------------------------------------- decoding (pure, unit-tested)


def any_value(value: common_pb2.AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(kvs: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in kvs}


def _hex_ids_to_base64(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _HEX_ID_FIELDS and isinstance(value, str) and value:
                with contextlib.suppress(ValueError):  # not hex: already base64
                    value = base64.b64encode(bytes.fromhex(value)).decode()
            out[key] = _hex_ids_to_base64(value)
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(v) for v in node]
    return node


def parse_body(path: str, body: bytes, content_type: str) -> Message:
    """Decode an OTLP/HTTP request body for `path`; raises ValueError on a body that is not OTLP."""
    request_type, _ = _ENDPOINTS[path]
    message = request_type()
    if "json" in content_type:
        try:
            json_format.ParseDict(_hex_ids_to_base64(json.loads(body or b"{}")), message, ignore_unknown_fields=True)
        except (json.JSONDecodeError, json_format.ParseError) as exc:
            raise ValueError(f"invalid OTLP/JSON body: {exc}") from exc
    else:
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise ValueError(f"invalid OTLP/protobuf body: {exc}") from exc
    return message


def span_records(request: trace_service_pb2.ExportTraceServiceRequest) -> Iterator[dict[str, Any]]:
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "signal": "span",
                    "service": resource.get("service.name"),
                    "resource": resource,
                    "scope": scope_spans.scope.name,
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex() or None,
                    "name": span.name,
                    "kind": SPAN_KINDS.get(span.kind, str(span.kind)),
                    "start_unix_nano": span.start_time_unix_nano,
                    "end_unix_nano": span.end_time_unix_nano,
                    "attributes": attributes(span.attributes),
                    "events": [
                        {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": attributes(e.attributes)}
                        for e in span.events
                    ],
                    "links": [{"trace_id": lk.trace_id.hex(), "span_id": lk.span_id.hex()} for lk in span.links],
                    "status": {
                        "code": STATUS_CODES.get(span.status.code, str(span.status.code)),
                        "message": span.status.message,
                    },
                }


def _number(point: Any) -> float | int | None:
    kind = point.WhichOneof("value")
    return getattr(point, kind) if kind else None


def metric_records(request: metrics_service_pb2.ExportMetricsServiceRequest) -> Iterator[dict[str, Any]]:
    for resource_metrics in request.resource_metrics:
        resource = attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                base = {
                    "signal": "metric",
                    "service": resource.get("service.name"),
                    "resource": resource,
                    "scope": scope_metrics.scope.name,
                    "name": metric.name,
                    "unit": metric.unit,
                }
                data = metric.WhichOneof("data")
                if data in ("sum", "gauge"):
                    for point in getattr(metric, data).data_points:
                        yield base | {
                            "type": data,
                            "attributes": attributes(point.attributes),
                            "time_unix_nano": point.time_unix_nano,
                            "value": _number(point),
                        }
                elif data == "histogram":
                    for point in metric.histogram.data_points:
                        yield base | {
                            "type": "histogram",
                            "attributes": attributes(point.attributes),
                            "time_unix_nano": point.time_unix_nano,
                            "count": point.count,
                            "sum": point.sum,
                            "min": point.min if point.HasField("min") else None,
                            "max": point.max if point.HasField("max") else None,
                            "bucket_counts": list(point.bucket_counts),
                            "explicit_bounds": list(point.explicit_bounds),
                        }
                elif data is not None:
                    for point in getattr(metric, data).data_points:
                        yield base | {
                            "type": data,
                            "attributes": attributes(point.attributes),
                            "time_unix_nano": point.time_unix_nano,
                        }


def log_records(request: logs_service_pb2.ExportLogsServiceRequest) -> Iterator[dict[str, Any]]:
    for resource_logs in request.resource_logs:
        resource = attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                yield {
                    "signal": "log",
                    "service": resource.get("service.name"),
                    "resource": resource,
                    "scope": scope_logs.scope.name,
                    "time_unix_nano": record.time_unix_nano,
                    "severity": record.severity_text,
                    "body": any_value(record.body),
                    "attributes": attributes(record.attributes),
                    "trace_id": record.trace_id.hex() or None,
                    "span_id": record.span_id.hex() or None,
                }


def records(path: str, message: Message) -> list[dict[str, Any]]:
    if path == "/v1/traces":
        return list(span_records(message))  # type: ignore[arg-type]
    if path == "/v1/metrics":
        return list(metric_records(message))  # type: ignore[arg-type]
    return list(log_records(message))  # type: ignore[arg-type]


def trace_summaries(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One summary per trace id, newest first: its root span (or earliest span), services and span count."""
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        by_trace.setdefault(span["trace_id"], []).append(span)
    summaries = []
    for trace_id, members in by_trace.items():
        members.sort(key=lambda s: s["start_unix_nano"])
        ids = {s["span_id"] for s in members}
        root = next((s for s in members if not s["parent_span_id"] or s["parent_span_id"] not in ids), members[0])
        summaries.append(
            {
                "trace_id": trace_id,
                "root": root["name"],
                "services": sorted({s["service"] or "?" for s in members}),
                "spans": len(members),
                "start_unix_nano": members[0]["start_unix_nano"],
                "duration_ms": round(
                    (max(s["end_unix_nano"] for s in members) - members[0]["start_unix_nano"]) / 1e6, 3
                ),
                "errors": sum(1 for s in members if s["status"]["code"] == "ERROR"),
            }
        )
    summaries.sort(key=lambda s: s["start_unix_nano"], reverse=True)
    return summaries


def read_jsonl(path: Path, signal: str | None = None) -> list[dict[str, Any]]:
    """The records a receiver wrote to `path` (optionally only one signal); a torn last line is skipped."""
    return jsonl_server.read_jsonl(path, None if signal is None else lambda r: r.get("signal") == signal)


# ---------------------------------------------------------------- server


class Handler(JsonHandler):
    log = log
    max_body = MAX_BODY

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/healthz":
            self._json(HTTPStatus.OK, {"status": "ok"})
        elif path == "/traces":
            self._json(HTTPStatus.OK, trace_summaries(read_jsonl(self.server.out, "span")))
        elif path.startswith("/traces/"):
            trace_id = path.removeprefix("/traces/").lower()
            spans = sorted(
                (s for s in read_jsonl(self.server.out, "span") if s["trace_id"] == trace_id),
                key=lambda s: s["start_unix_nano"],
            )
            self._json(HTTPStatus.OK if spans else HTTPStatus.NOT_FOUND, spans)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        body = self._read_body()
        if body is None:
            return
        if path not in _ENDPOINTS:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})
            return
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        content_type = (self.headers.get("Content-Type") or "application/x-protobuf").lower()
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            message = parse_body(path, body, content_type)
        except (OSError, ValueError, zlib.error) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self.server.append(records(path, message))
        response = _ENDPOINTS[path][1]()
        if "json" in content_type:
            self._send(HTTPStatus.OK, json_format.MessageToJson(response).encode())
        else:
            self._send(HTTPStatus.OK, response.SerializeToString(), "application/x-protobuf")


def serve(host: str, port: int, out: Path) -> JsonlServer:
    """Bind the receiver (port 0 = any free port; read `.server_address`); call serve_forever() to run it."""
    return JsonlServer((host, port), Handler, out)


def main(argv: list[str] | None = None) -> int:
    return jsonl_server.main(
        argv,
        module="otlp_receiver",
        description=__doc__.split("\n")[0],
        default_port=4318,
        out_help="JSON-lines file the spans/metrics/logs are appended to",
        what="OTLP/HTTP receiver",
        serve=serve,
        log=log,
    )


if __name__ == "__main__":
    raise SystemExit(main())
