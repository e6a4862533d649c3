"""runs.error_message: the new name of runs.error, kept in sync with it both ways (expand)

The first half of renaming runs.error safely. Code up to revision 0002 writes and reads `error`; code from
0003 on writes and reads `error_message`. Both run on this shape: a trigger copies whichever column a statement
wrote into the other one, so a run failed by either version reads the same through both. 0004 (contract) drops
`error` and the trigger once no process older than 0003 runs.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

phase = "expand"
irreversible: str | None = None
completes: str | None = None


def upgrade() -> None:
    # fail fast instead of queueing every runs query behind a long transaction's lock
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("SET LOCAL statement_timeout = '300s'")
    op.execute("ALTER TABLE runs ADD COLUMN IF NOT EXISTS error_message text")
    # INSERT: the column the writer set fills the other; UPDATE: the column the statement changed wins
    op.execute(
        """
        CREATE OR REPLACE FUNCTION runs_error_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF NEW.error_message IS NULL THEN
                    NEW.error_message = NEW.error;
                ELSIF NEW.error IS NULL THEN
                    NEW.error = NEW.error_message;
                END IF;
            ELSIF NEW.error_message IS DISTINCT FROM OLD.error_message THEN
                NEW.error = NEW.error_message;
            ELSIF NEW.error IS DISTINCT FROM OLD.error THEN
                NEW.error_message = NEW.error;
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute("DROP TRIGGER IF EXISTS runs_error_sync ON runs")
    op.execute(
        "CREATE TRIGGER runs_error_sync BEFORE INSERT OR UPDATE OF error, error_message ON runs"
        " FOR EACH ROW EXECUTE FUNCTION runs_error_sync()"
    )
    # the rows written before: in the same transaction as the column, so no row is missed
    op.execute("UPDATE runs SET error_message = error WHERE error IS NOT NULL AND error_message IS NULL")


def downgrade() -> None:
    # `error` holds every value (the trigger kept it in sync); the last-written one wins for a row that differs
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("SET LOCAL statement_timeout = '300s'")
    op.execute("DROP TRIGGER IF EXISTS runs_error_sync ON runs")
    op.execute("DROP FUNCTION IF EXISTS runs_error_sync()")
    op.execute("UPDATE runs SET error = error_message WHERE error IS DISTINCT FROM error_message")
    op.execute("ALTER TABLE runs DROP COLUMN IF EXISTS error_message")
