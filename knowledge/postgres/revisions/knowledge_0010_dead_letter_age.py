"""Dead letters are deleted by age (``CIUDAD_RETENTION_DEAD_LETTER_DAYS``). Rows arrive in
``received_at`` order, so a BRIN index finds the old ones for the price of a few pages.

Revision ID: knowledge_0010
"""

from support.store import run_sql

revision = "knowledge_0010"
down_revision = "knowledge_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        "CREATE INDEX IF NOT EXISTS ciudad_dead_letters_received "
        "ON ciudad_dead_letters USING brin (received_at);"
    )


def downgrade() -> None:
    run_sql("DROP INDEX IF EXISTS ciudad_dead_letters_received;")
