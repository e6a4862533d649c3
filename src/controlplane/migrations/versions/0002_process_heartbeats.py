"""process_heartbeats: each running api/worker records the schema revisions it works with

A contract revision is refused while a live process (seen within its ttl) still needs the shape it removes
(runner.blockers). Rows are written by controlplane.heartbeat; read in the shared database only (the table exists
wherever the chain runs, empty in tenant schemas and databases).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

phase = "expand"
irreversible: str | None = None
completes: str | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS process_heartbeats (
            process_id   text PRIMARY KEY,
            role         text NOT NULL,
            app_version  text NOT NULL,
            schema_min   text NOT NULL,
            schema_head  text NOT NULL,
            host         text NOT NULL,
            pid          bigint NOT NULL,
            started_at   timestamptz NOT NULL DEFAULT now(),
            seen_at      timestamptz NOT NULL DEFAULT now(),
            ttl_seconds  double precision NOT NULL CHECK (ttl_seconds > 0)
        )
        """
    )


def downgrade() -> None:
    # Only liveness records: the processes write them again every few seconds.
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("DROP TABLE IF EXISTS process_heartbeats")
