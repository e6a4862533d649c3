"""Drop runs.error and its sync trigger: error_message is the only name (contract, completes 0003)

Code older than 0003 reads and writes `error`: this revision breaks it, so `migrate --phase contract` refuses it
while such a process still records a heartbeat. Reversible: the downgrade adds `error` back, fills it from
error_message and restores the trigger (the 0003 shape).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

phase = "contract"
irreversible: str | None = None
completes: str | None = "0003"


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("SET LOCAL statement_timeout = '300s'")
    op.execute("DROP TRIGGER IF EXISTS runs_error_sync ON runs")
    op.execute("DROP FUNCTION IF EXISTS runs_error_sync()")
    op.execute("ALTER TABLE runs DROP COLUMN IF EXISTS error")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("SET LOCAL statement_timeout = '300s'")
    op.execute("ALTER TABLE runs ADD COLUMN IF NOT EXISTS error text")
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
    op.execute("UPDATE runs SET error = error_message WHERE error_message IS NOT NULL")
