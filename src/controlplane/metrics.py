"""The runtime's metrics: prometheus-client, one CollectorRegistry per process role, served on GET /metrics
(docs/runtime.md#metrics).

- ApiMetrics (the api process): requests by route template, method and code; request latency; runs started.
- WorkerMetrics (the worker): workflow completions and durations, activity executions and durations (per attempt,
  through ActivityMetricsInterceptor, a Temporal worker interceptor), outbox events published, evidence chain
  checks (controlplane.chaincheck).
- Histograms carry an exemplar {trace_id, span_id} of the span current when they are observed (the request's, the
  activity's); exemplars only appear in the OpenMetrics exposition, which the server answers when the scraper asks
  for it (`Accept: application/openmetrics-text`, what Prometheus sends).
- Both registries carry prometheus-client's process collector (process_cpu_seconds_total,
  process_resident_memory_bytes, …): `infractl cost rightsize` sizes the pods from them.
- serve(): a small HTTP server in a daemon thread on CONTROLPLANE_METRICS_HOST:CONTROLPLANE_METRICS_PORT; the entry
  points start it and stop it. Each registry is its own (not prometheus-client's global one): tests run several.

Label values are bounded: route templates (never raw paths), a fixed set of methods, status codes, workflow and
activity names, outcomes. No label ever holds a request's data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, disable_created_metrics
from starlette.routing import BaseRoute, Match
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from controlplane.errors import ControlPlaneError

# `*_created` series are noise for the SLO queries and double the series count: off for the whole process
disable_created_metrics()

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
WORKFLOW_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
ACTIVITY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
PROBES = frozenset({"/livez", "/readyz"})  # not counted: they are not the service's traffic
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_KINDS = 50  # distinct run kinds counted by name; the rest count as `other`
UNMATCHED = "unmatched"  # the route label of a path no route matches


def exemplar() -> dict[str, str] | None:
    """{trace_id, span_id} of the current span (hex, as in the trace), or None outside a sampled span."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid or not ctx.trace_flags.sampled:
        return None
    return {"trace_id": f"{ctx.trace_id:032x}", "span_id": f"{ctx.span_id:016x}"}


def _registry(registry: CollectorRegistry | None) -> CollectorRegistry:
    """The role's registry: a new one (with the process collector) unless a test passes its own."""
    if registry is not None:
        return registry
    made = CollectorRegistry()
    ProcessCollector(registry=made)
    return made


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = _registry(registry)
        self.requests = Counter(
            "controlplane_http_requests",
            "API requests answered, by route template, method and status code (probes not counted)",
            ("route", "method", "code"),
            registry=self.registry,
        )
        self.request_duration = Histogram(
            "controlplane_http_request_duration_seconds",
            "API request latency, by route template and method (probes not counted)",
            ("route", "method"),
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.runs_started = Counter(
            "controlplane_runs_started", "Run workflows started by the API", ("kind",), registry=self.registry
        )
        self._kinds: set[str] = set()

    def run_started(self, kind: str) -> None:
        """Count a started run by its kind. Kinds come from requests: past MAX_KINDS distinct ones, the rest count as
        `other`, so a client cannot grow the series without bound."""
        if kind not in self._kinds and len(self._kinds) < MAX_KINDS:
            self._kinds.add(kind)
        self.runs_started.labels(kind if kind in self._kinds else "other").inc()

    def request(self, route: str, method: str, code: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(route, method, str(code)).inc()
        self.request_duration.labels(route, method).observe(seconds, exemplar())


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None, *, workflows: Iterable[str] = ()) -> None:
        r = self.registry = _registry(registry)
        self.workflow_completions = Counter(
            "controlplane_workflow_completions",
            "Workflows that reached their final state, by outcome (completed|failed); transitions, not attempts",
            ("workflow", "outcome"),
            registry=r,
        )
        self.workflow_duration = Histogram(
            "controlplane_workflow_duration_seconds",
            "From the run's acceptance by the API to its final state",
            ("workflow",),
            buckets=WORKFLOW_BUCKETS,
            registry=r,
        )
        self.activity_executions = Counter(
            "controlplane_activity_executions",
            "Activity attempts, by outcome (success|failure)",
            ("activity", "outcome"),
            registry=r,
        )
        self.activity_duration = Histogram(
            "controlplane_activity_duration_seconds",
            "Activity attempt duration",
            ("activity",),
            buckets=ACTIVITY_BUCKETS,
            registry=r,
        )
        self.outbox_published = Counter("controlplane_outbox_published", "Outbox events handed to the sink", registry=r)
        self.evidence_verifications = Counter(
            "controlplane_evidence_verifications",
            "Periodic checks of the evidence ledger's hash chain, by outcome (ok|broken)",
            ("outcome",),
            registry=r,
        )
        self.evidence_last_success = Gauge(
            "controlplane_evidence_verify_last_success_timestamp_seconds",
            "Unix time of the last evidence chain check that found the chain intact",
            registry=r,
        )
        # the series exist from the start (at 0): rate() and ratios see them before the first event
        for outcome in ("ok", "broken"):
            self.evidence_verifications.labels(outcome)
        for workflow in workflows:
            for outcome in ("completed", "failed"):
                self.workflow_completions.labels(workflow, outcome)

    def workflow_finished(self, workflow: str, outcome: str, seconds: float | None) -> None:
        self.workflow_completions.labels(workflow, outcome).inc()
        if seconds is not None:
            self.workflow_duration.labels(workflow).observe(max(seconds, 0.0), exemplar())

    def activity_attempt(self, name: str, outcome: str, seconds: float) -> None:
        self.activity_executions.labels(name, outcome).inc()
        self.activity_duration.labels(name).observe(seconds, exemplar())

    def evidence_checked(self, ok: bool) -> None:
        self.evidence_verifications.labels("ok" if ok else "broken").inc()
        if ok:
            self.evidence_last_success.set(time.time())


# ---------------------------------------------------------------- the API's request metrics


def route_template(scope: dict[str, Any], routes: Sequence[BaseRoute] = ()) -> str:
    """The template of the route a request matches (`/v1/tenants/{tenant}/runs`), never its raw path. Routing sets
    scope["route"]; a request answered before routing (the fault switch, the body limit) is matched against
    `routes` (the app's own routes, as the app declared them)."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        return route
    partial = None
    for candidate in routes:
        match, _ = candidate.matches(scope)
        path = getattr(candidate, "path", None)
        if match is Match.FULL and path:
            return path
        if match is Match.PARTIAL and partial is None:  # the path matches, the method does not (405)
            partial = path
    return partial or UNMATCHED


class RequestMetrics:
    """Pure ASGI middleware: counts every answer and observes its latency, with the request span as exemplar. It
    runs inside the OpenTelemetry middleware (the server span is current) and outside the fault switch and the
    body limit (their 503 and 413 are counted like any other answer)."""

    def __init__(self, app: Any, metrics: ApiMetrics, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}  # an exception that escapes the app becomes a 500 outside this middleware

        async def _send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = route_template(scope, self.routes)
            if route not in PROBES:
                self.metrics.request(route, scope.get("method", ""), status["code"], time.perf_counter() - started)


# ---------------------------------------------------------------- the worker's activity metrics


class ActivityMetricsInterceptor(Interceptor):
    """Temporal worker interceptor: one count and one duration per activity attempt. Client interceptors come
    first in the worker's chain, so the tracing interceptor's RunActivity span is current here (the exemplar)."""

    def __init__(self, metrics: WorkerMetrics) -> None:
        self.metrics = metrics

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityMetrics(next, self.metrics)


class _ActivityMetrics(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: WorkerMetrics) -> None:
        super().__init__(next)
        self.metrics = metrics

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        name = activity.info().activity_type
        started = time.perf_counter()
        outcome = "failure"
        try:
            result = await super().execute_activity(input)
            outcome = "success"
            return result
        finally:
            self.metrics.activity_attempt(name, outcome, time.perf_counter() - started)


# ---------------------------------------------------------------- GET /metrics


class MetricsServerError(ControlPlaneError):
    """The metrics port could not be bound."""


@dataclass
class MetricsServer:
    httpd: Any
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def serve(registry: CollectorRegistry, host: str, port: int) -> MetricsServer:
    """Serve `registry` on http://host:port/metrics (any path answers; port 0 = a free port) in a daemon thread.
    The exposition is OpenMetrics (with exemplars) when the request's Accept asks for it, Prometheus text else."""
    from prometheus_client import start_http_server

    try:
        httpd, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise MetricsServerError(
            f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}",
            details=["CONTROLPLANE_METRICS_HOST / CONTROLPLANE_METRICS_PORT (0 = no metrics)"],
        ) from None
    thread.name = "metrics-server"
    return MetricsServer(httpd, thread)
