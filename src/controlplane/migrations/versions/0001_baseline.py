"""Baseline: runs, outbox, delivered_events, idempotency_keys

The schema the hand-rolled migrations 1 and 2 (adapters/schema.py, before Alembic) created, with IF NOT EXISTS
everywhere: a database those migrations built upgrades through this revision unchanged. Their bookkeeping table
schema_migrations is left alone.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

phase = "expand"
irreversible: str | None = None
completes: str | None = None


def upgrade() -> None:
    # on a database the old migrations built, the statements below find their objects and only take brief locks
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("SET LOCAL statement_timeout = '300s'")
    op.execute(
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
        )
        """
    )
    op.execute("CREATE INDEX IF NOT EXISTS runs_tenant_created_idx ON runs (tenant, created_at DESC)")
    # the transactional outbox: written in the same transaction as the runs row it describes
    op.execute(
        """
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
        )
        """
    )
    op.execute("CREATE INDEX IF NOT EXISTS outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL")
    # the relay's sink in this reference runtime: one row per delivered event, the event id is unique
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS delivered_events (
            event_id      uuid PRIMARY KEY,
            event_type    text NOT NULL,
            tenant        text NOT NULL,
            aggregate_id  uuid NOT NULL,
            payload       jsonb NOT NULL,
            delivered_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    # Idempotency-Key of POST /v1/tenants/{tenant}/runs: one live record per (tenant, key), claimed with
    # INSERT ... ON CONFLICT, so concurrent requests with one key race on this primary key, not on a read
    op.execute(
        """
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
        )
        """
    )
    op.execute("CREATE INDEX IF NOT EXISTS idempotency_keys_expires_idx ON idempotency_keys (expires_at)")


def downgrade() -> None:
    # Back to an empty schema (a tenant being removed, a test). The data goes with the tables.
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("DROP TABLE IF EXISTS idempotency_keys")
    op.execute("DROP TABLE IF EXISTS delivered_events")
    op.execute("DROP TABLE IF EXISTS outbox")
    op.execute("DROP TABLE IF EXISTS runs")
