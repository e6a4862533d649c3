"""The database schema as ordered migrations, applied by `python -m controlplane.migrate` (idempotent).

Each migration runs in its own transaction under a transaction-level advisory lock, so two migrate jobs started
together (two replicas, a retried init job) apply each version exactly once.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

ADVISORY_LOCK_ID = 0x636F6E74726F6C  # "control"

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "runs, outbox, delivered_events",
        """
        CREATE TABLE IF NOT EXISTS runs (
            id              uuid PRIMARY KEY,
            tenant          text NOT NULL,
            kind            text NOT NULL,
            status          text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
            workflow_id     text NOT NULL,
            evidence_key    text,
            evidence_sha256 text,
            error           text,
            created_at      timestamptz NOT NULL DEFAULT now(),
            updated_at      timestamptz NOT NULL DEFAULT now(),
            completed_at    timestamptz
        );
        CREATE INDEX IF NOT EXISTS runs_tenant_created_idx ON runs (tenant, created_at DESC);

        -- the transactional outbox: written in the same transaction as the runs row it describes
        CREATE TABLE IF NOT EXISTS outbox (
            id            uuid PRIMARY KEY,
            event_type    text NOT NULL,
            tenant        text NOT NULL,
            aggregate_id  uuid NOT NULL,
            payload       jsonb NOT NULL,
            traceparent   text,
            created_at    timestamptz NOT NULL DEFAULT now(),
            published_at  timestamptz,
            attempts      integer NOT NULL DEFAULT 0,
            UNIQUE (aggregate_id, event_type)
        );
        CREATE INDEX IF NOT EXISTS outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

        -- the relay's sink in this reference runtime: one row per delivered event, the event id is unique
        CREATE TABLE IF NOT EXISTS delivered_events (
            event_id      uuid PRIMARY KEY,
            event_type    text NOT NULL,
            tenant        text NOT NULL,
            aggregate_id  uuid NOT NULL,
            payload       jsonb NOT NULL,
            delivered_at  timestamptz NOT NULL DEFAULT now()
        );
        """,
    ),
    (
        2,
        "idempotency_keys",
        """
        -- Idempotency-Key of POST /v1/tenants/{tenant}/runs: one live record per (tenant, key), claimed with
        -- INSERT ... ON CONFLICT, so concurrent requests with one key race on this primary key, not on a read
        CREATE TABLE IF NOT EXISTS idempotency_keys (
            tenant          text NOT NULL,
            key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
            request_sha256  text NOT NULL,
            run_id          uuid NOT NULL,
            requested_at    timestamptz NOT NULL,
            created_at      timestamptz NOT NULL DEFAULT now(),
            expires_at      timestamptz NOT NULL,
            started_at      timestamptz,
            PRIMARY KEY (tenant, key)
        );
        CREATE INDEX IF NOT EXISTS idempotency_keys_expires_idx ON idempotency_keys (expires_at);
        """,
    ),
)


async def apply(conn) -> list[int]:  # conn: psycopg.AsyncConnection (autocommit off)
    """Apply the missing migrations in order; the versions applied now."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_ID,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
    applied: list[int] = []
    for version, description, sql in MIGRATIONS:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_ID,))
            cur = await conn.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (version,))
            if await cur.fetchone():
                continue
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, description) VALUES (%s, %s)", (version, description)
            )
            applied.append(version)
            log.info("applied migration %s: %s", version, description)
    return applied


def latest_version() -> int:
    return MIGRATIONS[-1][0]
