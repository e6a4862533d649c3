"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None

# "expand": the previous application version keeps working on the result (checked by the migration lint);
# "contract": removes a shape an older version still needs (run with --phase contract, refused while it runs).
phase = "expand"
# None, or the reason downgrade() cannot restore the previous shape (a downgrade across it is then refused).
irreversible: str | None = None
# contract only: the id of the expand revision whose old shape this revision removes.
completes: str | None = None


def upgrade() -> None:
    op.execute("")


def downgrade() -> None:
    op.execute("")
