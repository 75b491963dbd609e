"""The change feed keeps an entity's other types (NGSI-LD 4.16) beside its first, so a
subscription to any of its types is notified, and a notification names them all. Rows
from before carry none, as their entities' changes did.

Revision ID: knowledge_0011
"""

from support.store import run_sql

revision = "knowledge_0011"
down_revision = "knowledge_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        "ALTER TABLE ciudad_changes ADD COLUMN IF NOT EXISTS other_types text[] NOT NULL "
        "DEFAULT '{}';"
    )


def downgrade() -> None:
    run_sql("ALTER TABLE ciudad_changes DROP COLUMN IF EXISTS other_types;")
