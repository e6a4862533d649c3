"""OpenTelemetry and logging set-up for the api and worker processes (docs/runtime.md#tracing).

- One TracerProvider and one MeterProvider per process, exporting over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT
  (`<endpoint>/v1/traces`, `/v1/metrics`); no endpoint = spans and metrics are made but not exported.
- psycopg and botocore instrumentation (SQL text only: parameters are never captured), FastAPI instrumentation in
  app.py, Temporal's TracingInterceptor on the client and the worker (adapters/temporal.py): the W3C trace context
  travels from the HTTP request through the workflow and its activities into the DB and S3 spans.
- Spans pass through RedactingSpanExporter and log records through the redacting record factory (redaction.py).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from controlplane.redaction import SECRETS, SecretRegistry, install_log_redaction
from controlplane.settings import Settings

SCOPE = "controlplane"
log = logging.getLogger(__name__)


def tracer() -> trace.Tracer:
    return trace.get_tracer(SCOPE)


def meter() -> metrics.Meter:
    return metrics.get_meter(SCOPE)


class Metrics:
    """The runtime's own instruments (the FastAPI instrumentation adds the http.server.* ones)."""

    def __init__(self) -> None:
        m = meter()
        self.request_duration = m.create_histogram(
            "controlplane.api.request.duration", unit="s", description="API request latency by route and status"
        )
        self.request_errors = m.create_counter(
            "controlplane.api.request.errors", unit="{request}", description="API requests answered with 5xx"
        )
        self.runs_started = m.create_counter(
            "controlplane.runs.started", unit="{run}", description="Run workflows started by the API"
        )
        self.workflow_completions = m.create_counter(
            "controlplane.workflow.completions",
            unit="{workflow}",
            description="Run workflows that reached a final state, by outcome (completed/failed)",
        )
        self.outbox_published = m.create_counter(
            "controlplane.outbox.published", unit="{event}", description="Outbox events handed to the sink"
        )


_metrics: Metrics | None = None
_metrics_lock = threading.Lock()


def instruments() -> Metrics:
    global _metrics
    with _metrics_lock:
        if _metrics is None:
            _metrics = Metrics()
        return _metrics


# ---------------------------------------------------------------- span redaction


def _strings(attributes) -> list[str]:
    out: list[str] = []
    for value in (attributes or {}).values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list | tuple):
            out += [v for v in value if isinstance(v, str)]
    return out


class RedactingSpanExporter(SpanExporter):
    """Export spans with every registered secret value masked in names, attributes, events and status text."""

    def __init__(self, inner: SpanExporter, registry: SecretRegistry = SECRETS) -> None:
        self.inner = inner
        self.registry = registry

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if len(self.registry):
            spans = [self._scrub(s) for s in spans]
        return self.inner.export(spans)

    def _scrub(self, span: ReadableSpan) -> ReadableSpan:
        r = self.registry
        texts = [span.name, span.status.description or "", *_strings(span.attributes)]
        for event in span.events:
            texts += [event.name, *_strings(event.attributes)]
        if not any(r.contains_secret(t) for t in texts if t):
            return span
        return ReadableSpan(
            name=r.redact(span.name),
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes={k: r.redact_any(v) for k, v in (span.attributes or {}).items()},
            events=[
                Event(r.redact(e.name), {k: r.redact_any(v) for k, v in (e.attributes or {}).items()}, e.timestamp)
                for e in span.events
            ],
            links=span.links,
            kind=span.kind,
            status=Status(span.status.status_code, r.redact(span.status.description or "") or None),
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


# ---------------------------------------------------------------- providers


@dataclass
class Telemetry:
    service_name: str
    tracer_provider: object
    meter_provider: object
    exporting: bool

    def force_flush(self, timeout_millis: int = 10_000) -> None:
        self.tracer_provider.force_flush(timeout_millis)  # type: ignore[attr-defined]
        self.meter_provider.force_flush(timeout_millis)  # type: ignore[attr-defined]

    def shutdown(self) -> None:
        for provider in (self.tracer_provider, self.meter_provider):
            try:
                provider.shutdown()  # type: ignore[attr-defined]
            except Exception:  # exporting on the way out is best effort
                log.debug("telemetry shutdown failed", exc_info=True)


_telemetry: Telemetry | None = None
_telemetry_lock = threading.Lock()


def configure_telemetry(settings: Settings, default_service: str) -> Telemetry:
    """Install the global tracer and meter providers and the library instrumentation, once per process.

    A second call returns the first call's Telemetry (OpenTelemetry's global providers can be set only once).
    """
    global _telemetry
    with _telemetry_lock:
        if _telemetry is not None:
            return _telemetry
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from controlplane import __version__

        name = settings.service_name(default_service)
        resource = Resource.create({"service.name": name, "service.version": __version__, "service.namespace": SCOPE})
        tracer_provider = TracerProvider(resource=resource)
        readers = []
        endpoint = settings.otel_exporter_otlp_endpoint
        if endpoint:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = RedactingSpanExporter(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=5))
            tracer_provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
            readers.append(
                PeriodicExportingMetricReader(
                    OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", timeout=5),
                    export_interval_millis=settings.otel_metric_export_interval_ms,
                )
            )
        meter_provider = MeterProvider(resource=resource, metric_readers=readers)
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(meter_provider)
        _instrument_libraries()
        _telemetry = Telemetry(name, tracer_provider, meter_provider, exporting=bool(endpoint))
        return _telemetry


def _instrument_libraries() -> None:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    psycopg = PsycopgInstrumentor()
    if not psycopg.is_instrumented_by_opentelemetry:
        # SQL text only; never the parameters (they may hold tenant data, never secrets, but keep spans lean)
        psycopg.instrument(enable_commenter=False, capture_parameters=False)
    botocore = BotocoreInstrumentor()
    if not botocore.is_instrumented_by_opentelemetry:
        botocore.instrument()


def uninstrument_libraries() -> None:
    """Undo _instrument_libraries (tests that share a process with other suites)."""
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    for instrumentor in (PsycopgInstrumentor(), BotocoreInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


# ---------------------------------------------------------------- logging


class TraceContextFilter(logging.Filter):
    """Adds `trace_id` and `span_id` of the current span to each record, so log lines join their trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = f"{ctx.trace_id:032x}" if ctx.is_valid else "-"
        record.span_id = f"{ctx.span_id:016x}" if ctx.is_valid else "-"
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s trace=%(trace_id)s span=%(span_id)s %(message)s"


def configure_logging(level: str = "INFO", stream=None) -> logging.Handler:
    """Plain lines on stderr with the trace id; secret values redacted. Returns the handler it installed."""
    install_log_redaction()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # libraries that are chatty at INFO
    for name in ("httpx", "botocore", "urllib3", "temporalio.bridge", "alembic"):  # alembic: the runner logs its own
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.WARNING))
    return handler
