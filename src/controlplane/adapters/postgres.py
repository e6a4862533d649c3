"""PostgreSQL adapters (psycopg 3 + psycopg_pool): the run store with its transactional outbox, the outbox relay
side, and the reference event sink (`delivered_events`).

The pool is opened without waiting, so a process starts while the database is still coming up (readiness says
so); the password is read from the secret store each time the pool opens a connection (cached there), so a
rotated password is picked up by new connections.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from controlplane.models import KeyClaim, NewRun, OutboxEvent, RunRecord, RunStatus, StoredObject
from controlplane.ports import EventSink
from controlplane.settings import Settings

log = logging.getLogger(__name__)

PasswordSource = Callable[[], Awaitable[str]]


def connection_kwargs(settings: Settings, password: str, *, application_name: str) -> dict[str, Any]:
    return {
        "host": settings.db_host,
        "port": settings.db_port,
        "dbname": settings.db_name,
        "user": settings.db_user,
        "password": password,
        "connect_timeout": max(1, round(settings.db_connect_timeout)),
        "application_name": application_name,
    }


async def _check_connection(conn: Any) -> None:
    """The pool's check of a connection before it is handed out (an empty statement), without a span: it would be
    one more span per use of the database, an empty one, in every trace."""
    token = otel_context.attach(otel_context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        await AsyncConnectionPool.check_connection(conn)
    finally:
        otel_context.detach(token)


def make_pool(settings: Settings, password: PasswordSource, *, application_name: str) -> AsyncConnectionPool:
    """A closed pool; `await pool.open(wait=False)` starts it."""

    async def kwargs() -> dict[str, Any]:
        return connection_kwargs(settings, await password(), application_name=application_name)

    return AsyncConnectionPool(
        kwargs=kwargs,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        open=False,
        check=_check_connection,  # a connection broken by a DB restart is replaced, not handed out
        name=application_name,
        timeout=settings.db_connect_timeout,
        reconnect_timeout=3600,
    )


def _event_row(event: OutboxEvent) -> tuple[Any, ...]:
    return (
        event.id,
        event.event_type,
        event.tenant,
        event.aggregate_id,
        Jsonb(event.payload),
        event.traceparent,
    )


_INSERT_EVENT = (
    "INSERT INTO outbox (id, event_type, tenant, aggregate_id, payload, traceparent)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (aggregate_id, event_type) DO NOTHING"
)


class PostgresRunStore:
    """RunStore: each state change and its outbox event are written in one transaction."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def record_run(self, run: NewRun, event: OutboxEvent) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO runs (id, tenant, kind, status, workflow_id, created_at, updated_at)"
                " VALUES (%s, %s, %s, 'running', %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
                (run.id, run.tenant, run.kind, run.workflow_id, run.requested_at, run.requested_at),
            )
            if await cur.fetchone() is None:
                return False  # recorded by an earlier attempt: its event is already in the outbox
            await conn.execute(_INSERT_EVENT, _event_row(event))
            return True

    async def finish_run(
        self,
        tenant: str,
        run_id: uuid.UUID,
        status: RunStatus,
        event: OutboxEvent,
        *,
        evidence: StoredObject | None = None,
        error_message: str | None = None,
    ) -> float | None:
        if status not in (RunStatus.COMPLETED, RunStatus.FAILED):
            raise ValueError(f"finish_run to {status}: only completed or failed are final")
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE runs SET status = %s, evidence_key = coalesce(%s, evidence_key),"
                " evidence_sha256 = coalesce(%s, evidence_sha256), error_message = %s,"
                " updated_at = now(), completed_at = now()"
                " WHERE tenant = %s AND id = %s AND status = 'running'"
                " RETURNING extract(epoch FROM completed_at - created_at)",  # created_at: the API's requested_at
                (
                    status.value,
                    evidence.key if evidence else None,
                    evidence.sha256 if evidence else None,
                    error_message,
                    tenant,
                    run_id,
                ),
            )
            row = await cur.fetchone()
            if row is None:
                return None  # already final (an earlier attempt committed) or never recorded
            await conn.execute(_INSERT_EVENT, _event_row(event))
            return float(row[0])

    async def get_run(self, tenant: str, run_id: uuid.UUID) -> RunRecord | None:
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT id, tenant, kind, status, workflow_id, created_at, updated_at, completed_at,"
                " evidence_key, evidence_sha256, error_message FROM runs WHERE tenant = %s AND id = %s",
                (tenant, run_id),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        row["status"] = RunStatus(row["status"])
        return RunRecord(**row)

    async def ping(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("SELECT 1")


# An expired record of the same key is taken over in the same statement; a live one is left alone (no RETURNING row).
_CLAIM_KEY = (
    "INSERT INTO idempotency_keys (tenant, key, request_sha256, run_id, requested_at, expires_at)"
    " VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s))"
    " ON CONFLICT (tenant, key) DO UPDATE SET request_sha256 = excluded.request_sha256, run_id = excluded.run_id,"
    " requested_at = excluded.requested_at, created_at = now(), expires_at = excluded.expires_at, started_at = NULL"
    " WHERE idempotency_keys.expires_at <= now()"
    " RETURNING run_id, requested_at, request_sha256"
)
# A few expired records per claim, each statement on its own: SKIP LOCKED never waits, so it cannot deadlock a claim.
_PURGE_KEYS = (
    "DELETE FROM idempotency_keys WHERE (tenant, key) IN (SELECT tenant, key FROM idempotency_keys"
    " WHERE expires_at <= now() ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)"
)


class PostgresIdempotencyKeys:
    """IdempotencyKeys on the `idempotency_keys` table (primary key (tenant, key))."""

    PURGE_BATCH = 50

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def claim(
        self,
        tenant: str,
        key: str,
        request_sha256: str,
        run_id: uuid.UUID,
        requested_at: datetime,
        ttl_seconds: float,
    ) -> KeyClaim:
        async with self.pool.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(_CLAIM_KEY, (tenant, key, request_sha256, run_id, requested_at, ttl_seconds))
                row = await cur.fetchone()
                if row is not None:
                    claim = KeyClaim(row[0], row[1], row[2], created=True, started=False)
                else:
                    # the conflicting record is committed (the insert waited for it): this statement's snapshot sees it
                    cur = await conn.execute(
                        "SELECT run_id, requested_at, request_sha256, started_at IS NOT NULL FROM idempotency_keys"
                        " WHERE tenant = %s AND key = %s",
                        (tenant, key),
                    )
                    held = await cur.fetchone()
                    if held is None:  # purged between the two statements: it had just expired
                        raise RuntimeError(f"idempotency key of tenant {tenant} vanished while claimed; retry")
                    claim = KeyClaim(held[0], held[1], held[2], created=False, started=bool(held[3]))
            if claim.created:
                try:
                    async with conn.transaction():
                        await conn.execute(_PURGE_KEYS, (self.PURGE_BATCH,))
                except Exception as exc:  # housekeeping only: the claim is committed
                    log.warning("idempotency keys: purging expired records failed: %s", type(exc).__name__)
        return claim

    async def mark_started(self, tenant: str, key: str) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE idempotency_keys SET started_at = now() WHERE tenant = %s AND key = %s AND started_at IS NULL",
                (tenant, key),
            )


class PostgresOutbox:
    """Outbox: claim unpublished rows with FOR UPDATE SKIP LOCKED (relays on several workers never claim the same
    row), publish each to the sink, mark them published in the same transaction."""

    def __init__(self, pool: AsyncConnectionPool, on_published: Callable[[OutboxEvent, bool], None] | None = None):
        self.pool = pool
        self.on_published = on_published

    async def relay_once(self, sink: EventSink, limit: int = 100) -> int:
        from controlplane.telemetry import tracer

        published: list[uuid.UUID] = []
        async with self.pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT id, event_type, tenant, aggregate_id, payload, traceparent, created_at FROM outbox"
                " WHERE published_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (limit,),
            )
            rows = await cur.fetchall()
            for row in rows:
                event = OutboxEvent(
                    id=row["id"],
                    event_type=row["event_type"],
                    tenant=row["tenant"],
                    aggregate_id=row["aggregate_id"],
                    payload=row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"]),
                    traceparent=row["traceparent"],
                    created_at=row["created_at"],
                )
                with tracer().start_as_current_span(
                    f"outbox publish {event.event_type}",
                    kind=_producer(),
                    links=_links(event.traceparent),
                    attributes={
                        "messaging.operation.type": "publish",
                        "messaging.message.id": str(event.id),
                        "controlplane.tenant": event.tenant,
                    },
                ):
                    try:
                        delivered = await sink.publish(event)
                    except Exception as exc:
                        # keep what was published so far; this event is offered again on the next pass
                        log.warning("outbox: publishing event %s failed: %s", event.id, type(exc).__name__)
                        break
                published.append(event.id)
                if self.on_published:
                    self.on_published(event, delivered)
            if published:
                await conn.execute(
                    "UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY(%s)",
                    (published,),
                )
        return len(published)

    async def pending(self) -> int:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            row = await cur.fetchone()
        return int(row[0]) if row else 0


class PostgresEventSink:
    """EventSink writing to `delivered_events`; the primary key on the event id makes redelivery a no-op."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def publish(self, event: OutboxEvent) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO delivered_events (event_id, event_type, tenant, aggregate_id, payload)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                (event.id, event.event_type, event.tenant, event.aggregate_id, Jsonb(event.payload)),
            )
            return await cur.fetchone() is not None


def _producer():
    from opentelemetry.trace import SpanKind

    return SpanKind.PRODUCER


def _links(traceparent: str | None) -> list[Any]:
    """A link from the publish span to the transaction that wrote the event (its W3C traceparent)."""
    if not traceparent:
        return []
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    ctx = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
    span_context = trace.get_current_span(ctx).get_span_context()
    return [trace.Link(span_context)] if span_context.is_valid else []
