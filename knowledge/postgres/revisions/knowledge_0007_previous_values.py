"""What a change replaced, for notifications with ``showChanges`` (NGSI-LD 1.8, 5.2.14):
``ciudad_attr_state`` keeps the value its last update replaced (``prev_num``, ``prev_txt``),
which the state merge returns with the new one, so the change feed records the previous
value exactly, in the transaction of the change, at the cost of a few bytes in the row
that is written anyway. A deleted entity's change row keeps its system times.

Revision ID: knowledge_0007
"""

from support.store import run_sql

revision = "knowledge_0007"
down_revision = "knowledge_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE ciudad_attr_state
            ADD COLUMN IF NOT EXISTS prev_num double precision,
            ADD COLUMN IF NOT EXISTS prev_txt text;
        ALTER TABLE ciudad_changes
            ADD COLUMN IF NOT EXISTS entity_created_at timestamptz,
            ADD COLUMN IF NOT EXISTS entity_modified_at timestamptz;
        """
    )
