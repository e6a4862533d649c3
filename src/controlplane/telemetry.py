"""OpenTelemetry and logging set-up for the api and worker processes (docs/runtime.md#tracing-metrics-logs).

- One TracerProvider per process, exporting over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (`<endpoint>/v1/traces`);
  no endpoint = spans are made but not exported.
- Logs: lines with the trace and span id on stdout (configure_logging), and with an endpoint, the same records over
  OTLP/HTTP (`<endpoint>/v1/logs`) through OtlpLogHandler, with their trace context.
- Metrics are prometheus-client's, served on GET /metrics (controlplane.metrics), not OpenTelemetry's.
- psycopg and botocore instrumentation (SQL text only: parameters are never captured), FastAPI instrumentation in
  app.py, Temporal's TracingInterceptor on the client and the worker (adapters/temporal.py): the W3C trace context
  travels from the HTTP request through the workflow and its activities into the DB and S3 spans.
- Spans pass through RedactingSpanExporter, log records through the redacting record factory (redaction.py), and
  the exported log records through the registry again (OtlpLogHandler).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from controlplane.redaction import SECRETS, SecretRegistry, install_log_redaction
from controlplane.settings import Settings

SCOPE = "controlplane"
log = logging.getLogger(__name__)


def tracer() -> trace.Tracer:
    return trace.get_tracer(SCOPE)


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


# ---------------------------------------------------------------- log export


class OtlpLogHandler(logging.Handler):
    """Log records to an OpenTelemetry LoggerProvider (exported over OTLP/HTTP `<endpoint>/v1/logs`), with the trace
    and span id of the span current where the record is made.

    Every text it exports (the message, the exception's message and stack trace) passes through the secret registry
    again: a value registered after the record was made is masked too. It exports no `extra` attributes of the
    record (they are free-form) and no code location (the logger's name is the scope), only the exception.
    Records made while the SDK exports (its HTTP client's own logging) and the SDK's own records are skipped: they
    would feed the export back into itself."""

    def __init__(self, provider: Any, registry: SecretRegistry = SECRETS, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.provider = provider
        self.registry = registry

    def emit(self, record: logging.LogRecord) -> None:
        if otel_context.get_value(_SUPPRESS_INSTRUMENTATION_KEY) or record.name.startswith("opentelemetry"):
            return
        try:
            redact = self.registry.redact
            attributes: dict[str, Any] | None = None  # the logger's name is the scope; no code location (cost)
            if record.exc_info and record.exc_info[0] is not None:
                kind, value, _ = record.exc_info
                attributes = {
                    "exception.type": kind.__name__,
                    "exception.message": redact(str(value)),
                    "exception.stacktrace": redact(
                        record.exc_text or logging.Formatter().formatException(record.exc_info)
                    ),
                }
            self.provider.get_logger(record.name).emit(
                timestamp=int(record.created * 1e9),
                observed_timestamp=time.time_ns(),
                context=otel_context.get_current(),
                severity_number=_severity(record.levelno),
                severity_text=record.levelname,
                body=redact(record.getMessage()),
                attributes=attributes,
            )
        except Exception:
            self.handleError(record)


def _severity(levelno: int) -> SeverityNumber:
    for floor, number in (
        (logging.CRITICAL, SeverityNumber.FATAL),
        (logging.ERROR, SeverityNumber.ERROR),
        (logging.WARNING, SeverityNumber.WARN),
        (logging.INFO, SeverityNumber.INFO),
    ):
        if levelno >= floor:
            return number
    return SeverityNumber.DEBUG


# ---------------------------------------------------------------- providers


@dataclass
class Telemetry:
    service_name: str
    tracer_provider: Any
    logger_provider: Any = None  # None: logs are not exported
    log_handler: logging.Handler | None = None  # on the root logger while exporting
    exporting: bool = False

    def force_flush(self, timeout_millis: int = 10_000) -> None:
        self.tracer_provider.force_flush(timeout_millis)
        if self.logger_provider is not None:
            self.logger_provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self.log_handler is not None:
            logging.getLogger().removeHandler(self.log_handler)
        for provider in (self.tracer_provider, self.logger_provider):
            if provider is None:
                continue
            try:
                provider.shutdown()
            except Exception:  # exporting on the way out is best effort
                log.debug("telemetry shutdown failed", exc_info=True)


_telemetry: Telemetry | None = None
_telemetry_lock = threading.Lock()


def configure_telemetry(settings: Settings, default_service: str) -> Telemetry:
    """Install the global tracer provider, the log export and the library instrumentation, once per process.

    With OTEL_EXPORTER_OTLP_ENDPOINT, spans go to `<endpoint>/v1/traces` and the log records of the root logger (at
    CONTROLPLANE_LOG_LEVEL) to `<endpoint>/v1/logs`, both in batches; without it spans are made and not exported,
    and logs are only written as lines (configure_logging). Metrics are not OpenTelemetry's: controlplane.metrics.
    A second call returns the first call's Telemetry (OpenTelemetry's global providers can be set only once).
    """
    global _telemetry
    with _telemetry_lock:
        if _telemetry is not None:
            return _telemetry
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from controlplane import __version__

        name = settings.service_name(default_service)
        resource = Resource.create({"service.name": name, "service.version": __version__, "service.namespace": SCOPE})
        tracer_provider = TracerProvider(resource=resource)
        telemetry = Telemetry(name, tracer_provider)
        endpoint = settings.otel_exporter_otlp_endpoint
        if endpoint:
            from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk._logs import LoggerProvider
            from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

            if settings.otel_traces_exporter == "otlp":
                exporter = RedactingSpanExporter(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=5))
                tracer_provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
                telemetry.exporting = True
            if settings.otel_logs_exporter == "otlp":
                logger_provider = LoggerProvider(resource=resource)
                logger_provider.add_log_record_processor(
                    BatchLogRecordProcessor(
                        OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", timeout=5), schedule_delay_millis=1000
                    )
                )
                handler = OtlpLogHandler(logger_provider, level=logging.getLevelName(settings.log_level))
                logging.getLogger().addHandler(handler)
                telemetry.logger_provider, telemetry.log_handler, telemetry.exporting = logger_provider, handler, True
        trace.set_tracer_provider(tracer_provider)
        _instrument_libraries()
        _telemetry = telemetry
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
    """Plain lines with the trace and span id on `stream` (default stdout: the api's and the worker's log; the
    migrate job passes stderr, its stdout is its result); secret values redacted. Returns the handler it installed.
    """
    install_log_redaction()
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # libraries that are chatty at INFO
    for name in ("httpx", "botocore", "urllib3", "temporalio.bridge", "alembic"):  # alembic: the runner logs its own
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.WARNING))
    return handler
