"""What happened to an entity, in the change feed (NGSI-LD notificationTrigger): an entity
created or deleted (``event``), and per attribute in ``attrs`` whether it was created,
updated or deleted. Rows from before are attribute updates, as they always were.

Revision ID: knowledge_0005
"""

from support.store import run_sql

revision = "knowledge_0005"
down_revision = "knowledge_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("ALTER TABLE ciudad_changes ADD COLUMN IF NOT EXISTS event text")
