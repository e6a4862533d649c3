"""evidence ledger: append-only entries chained by SHA-256, the head they chain from, signed checkpoints

controlplane.ledger writes them (docs/evidence.md). Every hashed column is NOT NULL text (seq a bigint) so the
database can rebuild an entry's canonical body (chain.BODY_SQL). A trigger refuses UPDATE, DELETE and TRUNCATE of
entries: tampering needs the table owner to disable it first, and the chain shows what was done. Used in the shared
database only (the tables exist wherever the chain runs, empty in tenant schemas and databases).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

phase = "expand"
irreversible: str | None = None
completes: str | None = None

# the head before the first entry: seq 0, 64 zeros (controlplane.ledger.chain.GENESIS)
INSERT_HEAD = (
    "INSERT INTO evidence_head (one, seq, entry_hash)"
    " VALUES (true, 0, '0000000000000000000000000000000000000000000000000000000000000000') ON CONFLICT DO NOTHING"
)


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS evidence_entries (
            seq              bigint PRIMARY KEY CHECK (seq > 0),
            prev_hash        text NOT NULL,
            created_at       text NOT NULL,
            tenant           text NOT NULL,
            kind             text NOT NULL,
            actor            text NOT NULL,
            ref              text NOT NULL DEFAULT '',
            payload_sha256   text NOT NULL DEFAULT '',
            object_key       text NOT NULL DEFAULT '',
            version_id       text NOT NULL DEFAULT '',
            retention_class  text NOT NULL DEFAULT '',
            retain_until     text NOT NULL DEFAULT '',
            refers_to        text NOT NULL DEFAULT '',
            attributes       text NOT NULL DEFAULT '{}',
            entry_hash       text NOT NULL,
            signature        text NOT NULL DEFAULT '',
            key_id           text NOT NULL DEFAULT ''
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX IF NOT EXISTS evidence_entries_ref ON evidence_entries (ref) WHERE ref <> ''")
    op.execute(
        "CREATE INDEX IF NOT EXISTS evidence_entries_refers_to ON evidence_entries (refers_to) WHERE refers_to <> ''"
    )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS evidence_head (
            one         boolean PRIMARY KEY DEFAULT true CHECK (one),
            seq         bigint NOT NULL,
            entry_hash  text NOT NULL
        )
        """
    )
    op.execute(INSERT_HEAD)
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS evidence_checkpoints (
            seq         bigint PRIMARY KEY,
            entry_hash  text NOT NULL,
            created_at  text NOT NULL,
            signature   text NOT NULL,
            key_id      text NOT NULL,
            object_key  text NOT NULL DEFAULT '',
            version_id  text NOT NULL DEFAULT ''
        )
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION evidence_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'evidence entries are append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute("DROP TRIGGER IF EXISTS evidence_entries_no_change ON evidence_entries")
    op.execute(
        "CREATE TRIGGER evidence_entries_no_change BEFORE UPDATE OR DELETE ON evidence_entries"
        " FOR EACH ROW EXECUTE FUNCTION evidence_entries_append_only()"
    )
    op.execute("DROP TRIGGER IF EXISTS evidence_entries_no_truncate ON evidence_entries")
    op.execute(
        "CREATE TRIGGER evidence_entries_no_truncate BEFORE TRUNCATE ON evidence_entries"
        " FOR EACH STATEMENT EXECUTE FUNCTION evidence_entries_append_only()"
    )


def downgrade() -> None:
    # Reversible only while the ledger is empty: entries are evidence, and a rollback must not lose them.
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM evidence_entries) THEN
                RAISE EXCEPTION 'the evidence ledger holds entries: 0005 is not reverted (they are evidence)';
            END IF;
        END
        $$
        """
    )
    op.execute("DROP TABLE IF EXISTS evidence_checkpoints")
    op.execute("DROP TABLE IF EXISTS evidence_head")
    op.execute("DROP TABLE IF EXISTS evidence_entries")
    op.execute("DROP FUNCTION IF EXISTS evidence_entries_append_only()")
