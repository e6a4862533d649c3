"""The HTTP API (FastAPI): /livez, /readyz, and the run commands (docs/runtime.md#api).

`create_app(settings)` wires the real adapters in the lifespan; `create_app(deps=...)` takes ready-made ports
(tests with fakes); `create_app()` has neither and serves only the OpenAPI document (controlplane.openapi).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.trace import Status, StatusCode

from controlplane import __version__, idempotency
from controlplane.bodylimit import BodyLimit
from controlplane.errors import DependencyError
from controlplane.metrics import ApiMetrics, RequestMetrics
from controlplane.models import (
    TENANT_PATTERN,
    KeyClaim,
    Links,
    Liveness,
    Problem,
    Readiness,
    RunAccepted,
    RunStatus,
    RunView,
    StartRunRequest,
)
from controlplane.ports import IdempotencyKeys, IdGenerator, ObjectStore, RunStore, SecretStore, WorkflowStarter
from controlplane.readiness import check_all
from controlplane.settings import Settings
from controlplane.strictjson import StrictJSONRoute
from controlplane.telemetry import tracer
from controlplane.workflows import RunInput, workflow_id

log = logging.getLogger(__name__)

MAX_BODY_BYTES = Settings.model_fields["max_body_bytes"].default  # when create_app() gets no settings
TenantPath = Annotated[str, Path(pattern=TENANT_PATTERN, description="Tenant slug: lower-case letters, digits, '-'")]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias=idempotency.HEADER, pattern=idempotency.KEY_PATTERN, description=idempotency.HEADER_DESCRIPTION),
]

# workflow execution status (Temporal) -> run status, for runs not recorded in the database yet
_WORKFLOW_STATUS = {
    "RUNNING": RunStatus.PENDING,
    "CONTINUED_AS_NEW": RunStatus.PENDING,
    "COMPLETED": RunStatus.COMPLETED,
    "FAILED": RunStatus.FAILED,
    "CANCELED": RunStatus.FAILED,
    "TERMINATED": RunStatus.FAILED,
    "TIMED_OUT": RunStatus.FAILED,
}


@dataclass
class ApiDeps:
    store: RunStore
    workflows: WorkflowStarter
    objects: ObjectStore
    secrets: SecretStore
    ids: IdGenerator
    keys: IdempotencyKeys | None = None  # None: a request with an Idempotency-Key is refused (503)
    key_ttl_seconds: float = 86_400.0
    ready_timeout: float = 2.0
    retry_initial_seconds: float = 0.5
    close: Callable[[], Awaitable[None]] | None = None


async def build_deps(settings: Settings) -> ApiDeps:
    from controlplane import heartbeat, runtime
    from controlplane.adapters import temporal

    components = runtime.build(settings, application_name="controlplane-api")
    await components.open()
    client = await temporal.connect(settings, lazy=True)  # connects on first use: the API starts before Temporal
    beat = heartbeat.start(components.pool, "api", settings.heartbeat_seconds)

    async def close() -> None:
        await beat.stop()  # its row goes first: a stopped api no longer holds back a contract migration
        await components.close()

    return ApiDeps(
        store=components.store,
        workflows=temporal.TemporalWorkflows(client, settings.task_queue, rpc_timeout=settings.ready_timeout * 2),
        objects=components.objects,
        secrets=components.secrets,
        ids=components.ids,
        keys=components.keys,
        key_ttl_seconds=settings.idempotency_key_ttl,
        ready_timeout=settings.ready_timeout,
        retry_initial_seconds=settings.activity_initial_retry,
        close=close,
    )


def _deps(request: Request) -> ApiDeps:
    deps = getattr(request.app.state, "deps", None)
    if deps is None:
        raise HTTPException(503, "the API is not wired to its dependencies")
    return deps


# ---------------------------------------------------------------- routes

router = APIRouter(route_class=StrictJSONRoute)  # every JSON body is parsed strictly (strictjson.py)


@router.get("/livez", response_model=Liveness, tags=["health"], summary="The process is alive")
async def livez() -> Liveness:
    return Liveness()


@router.get(
    "/readyz",
    response_model=Readiness,
    tags=["health"],
    summary="Every dependency answers (database, Temporal, object store, secrets backend)",
    responses={503: {"model": Readiness, "description": "At least one dependency failed its check"}},
)
async def readyz(request: Request) -> JSONResponse:
    deps = _deps(request)
    result = await check_all(
        {
            "database": deps.store.ping,
            "temporal": deps.workflows.ping,
            "object_store": deps.objects.ping,
            "secrets": deps.secrets.ping,
        },
        deps.ready_timeout,
    )
    return JSONResponse(result.model_dump(mode="json"), status_code=200 if result.status == "ready" else 503)


_PROBLEM_400 = "The body is not strict JSON (RFC 8259 in UTF-8): NaN/Infinity, duplicate keys, lone surrogates, …"


@router.post(
    "/v1/tenants/{tenant}/runs",
    status_code=202,
    response_model=RunAccepted,
    tags=["runs"],
    summary="Start a run: records it, stores its evidence, announces it through the outbox",
    responses={
        202: {
            "description": "The run is started (or, for a replayed Idempotency-Key, was started by the first request)",
            "headers": {
                "Location": {"description": "The run's URL", "schema": {"type": "string"}},
                idempotency.REPLAYED_HEADER: {
                    "description": "`true` when this answer repeats the run of an earlier request with the same key",
                    "schema": {"type": "string", "enum": ["true"]},
                },
            },
        },
        400: {"model": Problem, "description": _PROBLEM_400},
        413: {"model": Problem, "description": "The body exceeds CONTROLPLANE_MAX_BODY_BYTES (refused unread)"},
        422: {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
            "description": "Not a valid request, or an Idempotency-Key already used with another body "
            "(`type` `idempotency_key_reused`)",
        },
        503: {"model": Problem, "description": "The workflow engine (or, with a key, the database) is unavailable"},
    },
)
async def start_run(
    tenant: TenantPath,
    body: StartRunRequest,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RunAccepted:
    deps = _deps(request)
    with tracer().start_as_current_span(
        "StartRun", attributes={"controlplane.command": "StartRun", "controlplane.tenant": tenant}
    ) as span:
        run_id, requested_at = deps.ids.new(), datetime.now(UTC)
        replayed = started = False
        if idempotency_key is not None:
            claim = await _claim(deps, tenant, idempotency_key, body, run_id, requested_at)
            if claim.request_sha256 != idempotency.fingerprint(body):
                span.set_status(Status(StatusCode.ERROR, "idempotency key reused with another body"))
                raise idempotency.reused(idempotency_key)
            run_id, requested_at = claim.run_id, claim.requested_at.astimezone(UTC)
            replayed, started = not claim.created, claim.started
            span.set_attribute("controlplane.idempotency.replayed", replayed)
        wf_id = workflow_id(tenant, str(run_id))
        span.set_attribute("controlplane.run_id", str(run_id))
        if not started:  # a replay whose first request has not started the workflow (yet) starts it: same id, once
            payload = RunInput(
                run_id=str(run_id),
                tenant=tenant,
                kind=body.kind,
                requested_at=requested_at.isoformat(),
                evidence=body.evidence,
                retry_initial_seconds=deps.retry_initial_seconds,
            )
            try:
                created = await deps.workflows.start_run(wf_id, payload)
            except DependencyError as exc:
                span.set_status(Status(StatusCode.ERROR, "workflow engine unavailable"))
                raise HTTPException(503, exc.message) from None
            if idempotency_key is not None:
                await _mark_started(deps, tenant, idempotency_key)
            metrics: ApiMetrics | None = request.app.state.metrics
            if created and metrics is not None:
                metrics.run_started(body.kind)
        location = f"/v1/tenants/{tenant}/runs/{run_id}"
        response.headers["Location"] = location
        if replayed:
            response.headers[idempotency.REPLAYED_HEADER] = "true"
        return RunAccepted(
            run_id=run_id, tenant=tenant, workflow_id=wf_id, status=RunStatus.PENDING, links=Links(self=location)
        )


async def _claim(
    deps: ApiDeps, tenant: str, key: str, body: StartRunRequest, run_id: uuid.UUID, requested_at: datetime
) -> KeyClaim:
    if deps.keys is None:
        raise HTTPException(503, f"this API has no store for {idempotency.HEADER}")
    try:
        return await deps.keys.claim(
            tenant, key, idempotency.fingerprint(body), run_id, requested_at, deps.key_ttl_seconds
        )
    except Exception as exc:  # nothing is started when the key cannot be checked
        log.warning("idempotency key claim failed: %s", type(exc).__name__)
        raise HTTPException(503, f"database unavailable: {idempotency.HEADER} not checked, nothing started") from None


async def _mark_started(deps: ApiDeps, tenant: str, key: str) -> None:
    try:
        await deps.keys.mark_started(tenant, key)  # type: ignore[union-attr]  # claimed before
    except Exception as exc:  # the workflow is started; a replay will find it by its id instead
        log.warning("idempotency key: recording the start failed: %s", type(exc).__name__)


@router.get(
    "/v1/tenants/{tenant}/runs/{run_id}",
    response_model=RunView,
    tags=["runs"],
    summary="A run's status: from the database once recorded, from the workflow before",
    responses={404: {"model": Problem}, 503: {"model": Problem}},
)
async def get_run(tenant: TenantPath, run_id: uuid.UUID, request: Request) -> RunView:
    deps = _deps(request)
    with tracer().start_as_current_span(
        "GetRun",
        attributes={
            "controlplane.command": "GetRun",
            "controlplane.tenant": tenant,
            "controlplane.run_id": str(run_id),
        },
    ) as span:
        db_error: str | None = None
        try:
            record = await deps.store.get_run(tenant, run_id)
        except Exception as exc:  # the database is away: the workflow may still answer
            record, db_error = None, type(exc).__name__
            span.add_event("database unavailable", {"error.type": db_error})
        if record is not None:
            return RunView(
                run_id=record.id,
                tenant=record.tenant,
                kind=record.kind,
                status=record.status,
                workflow_id=record.workflow_id,
                created_at=record.created_at,
                updated_at=record.updated_at,
                completed_at=record.completed_at,
                evidence_key=record.evidence_key,
                evidence_sha256=record.evidence_sha256,
                error=record.error_message,
                source="database",
            )
        wf_id = workflow_id(tenant, str(run_id))
        try:
            status = await deps.workflows.describe(wf_id)
        except DependencyError as exc:
            span.set_status(Status(StatusCode.ERROR, "dependencies unavailable"))
            raise HTTPException(503, exc.message) from None
        if status is None:
            if db_error:
                raise HTTPException(503, f"database unavailable ({db_error})")
            raise HTTPException(404, f"no run {run_id} for tenant {tenant}")
        return RunView(
            run_id=run_id,
            tenant=tenant,
            status=_WORKFLOW_STATUS.get(status, RunStatus.PENDING),
            workflow_id=wf_id,
            source="workflow",
        )


# ---------------------------------------------------------------- app


def create_app(
    settings: Settings | None = None,
    *,
    deps: ApiDeps | None = None,
    instrument: bool = True,
    max_body_bytes: int | None = None,
    metrics: ApiMetrics | None = None,
) -> FastAPI:
    """`metrics`: where the request metrics go (served by the entry point); None: no metrics are recorded.
    The fault switch (controlplane.faults) is installed only when settings name a CONTROLPLANE_FAULTS_FILE, the
    release header (controlplane.releaseheader) only when they carry a CONTROLPLANE_RELEASE."""
    limit = max_body_bytes or (settings.max_body_bytes if settings is not None else MAX_BODY_BYTES)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        wired = deps
        if wired is None and settings is not None:
            wired = await build_deps(settings)
        app.state.deps = wired
        try:
            yield
        finally:
            if wired is not None and wired.close is not None and deps is None:
                await wired.close()

    app = FastAPI(
        title="controlplane",
        version=__version__,
        summary="The control plane's reference runtime: runs executed as Temporal workflows.",
        lifespan=lifespan,
    )
    app.state.deps = deps
    app.state.metrics = metrics
    app.include_router(router)
    # outermost last: [OpenTelemetry] -> RequestMetrics -> FaultSwitch -> BodyLimit -> routes
    app.add_middleware(BodyLimit, limit=limit)  # before parsing: a larger Content-Length is refused unread
    if settings is not None and settings.faults_file is not None:
        from controlplane.faults import FaultSwitch

        log.warning("fault switch installed: faults are read from %s (dev/test only)", settings.faults_file)
        app.add_middleware(FaultSwitch, path=settings.faults_file, routes=router.routes)
    if metrics is not None:
        app.add_middleware(RequestMetrics, metrics=metrics, routes=router.routes)
    if instrument:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # no span per ASGI send/receive message: the request span and the command's are what a trace needs
        FastAPIInstrumentor.instrument_app(app, excluded_urls="livez,readyz", exclude_spans=["receive", "send"])
    if settings is not None and settings.release:
        from controlplane import releaseheader

        releaseheader.install(app, settings.release)  # outermost of all: every response carries it, a 500 too
    return app
