"""infractl's own telemetry export (docs/observability.md#infractl): one span and two metric points per command,
sent over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT. The OpenTelemetry SDK is imported only when an endpoint is set,
so a command without one pays nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
EXPORT_TIMEOUT_S = 2  # per signal: a collector that is down delays a command by a few seconds at most


@dataclass
class Session:
    tracer: Any
    duration: Any  # histogram, seconds
    invocations: Any  # counter
    tracer_provider: Any
    meter_provider: Any

    @contextlib.contextmanager
    def span(self, name: str, attributes: Mapping[str, str]) -> Iterator[Any]:
        with self.tracer.start_as_current_span(name, attributes=dict(attributes)) as span:
            yield span

    def record(self, seconds: float, attributes: Mapping[str, str | int]) -> None:
        self.duration.record(seconds, dict(attributes))
        self.invocations.add(1, dict(attributes))

    failures: list[str]

    def close(self) -> list[str]:
        """Flush and stop. Returns what could not be exported (a collector that is down costs at most the export
        timeouts, never the command's result)."""
        for provider in (self.tracer_provider, self.meter_provider):
            try:
                provider.shutdown()
            except Exception as exc:  # exporting on the way out is best effort
                self.failures.append(f"{type(exc).__name__}: {exc}")
        return self.failures


class _Counted:
    """An exporter that notes its failures instead of logging each retry."""

    def __init__(self, inner: Any, what: str, failures: list[str]) -> None:
        self.inner, self.what, self.failures = inner, what, failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def export(self, batch: Any, *args: Any, **kwargs: Any) -> Any:
        result = self.inner.export(batch, *args, **kwargs)
        if getattr(result, "name", "") == "FAILURE":
            self.failures.append(self.what)
        return result


def start(endpoint: str, service_name: str, version: str) -> Session:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    # the SDK logs every retry at WARNING: the caller says it once instead (close() returns the failures)
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)
    failures: list[str] = []
    base = endpoint.rstrip("/")
    resource = Resource.create({"service.name": service_name, "service.version": version})
    tracer_provider = TracerProvider(resource=resource)
    # one span per process: exported when it ends, no batching thread to wait for
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(
            _Counted(OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=EXPORT_TIMEOUT_S), "spans", failures)
        )
    )
    metric_exporter = OTLPMetricExporter(endpoint=f"{base}/v1/metrics", timeout=EXPORT_TIMEOUT_S)
    reader = PeriodicExportingMetricReader(
        _Counted(metric_exporter, "metrics", failures),
        export_interval_millis=3_600_000,  # exported once, at shutdown
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter = meter_provider.get_meter("infractl")
    return Session(
        tracer=tracer_provider.get_tracer("infractl"),
        duration=meter.create_histogram(
            "infractl.command.duration", unit="s", description="Wall time of an infractl command"
        ),
        invocations=meter.create_counter(
            "infractl.command.invocations", unit="{command}", description="infractl commands run, by exit code"
        ),
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        failures=failures,
    )
