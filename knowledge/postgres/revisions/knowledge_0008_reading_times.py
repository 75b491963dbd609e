"""System times of readings (NGSI-LD 4.8, ``options=sysAttrs``): ``ciudad_attr_state``
keeps when each attribute was first written (``created_at``) and last changed
(``modified_at``), set by the database in the transaction of the write. Existing rows
take their observation time, the best that is known of them.

Revision ID: knowledge_0008
"""

from support.store import run_sql

revision = "knowledge_0008"
down_revision = "knowledge_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE ciudad_attr_state
            ADD COLUMN IF NOT EXISTS created_at timestamptz,
            ADD COLUMN IF NOT EXISTS modified_at timestamptz;
        UPDATE ciudad_attr_state SET created_at = observed_at, modified_at = observed_at
            WHERE created_at IS NULL;
        ALTER TABLE ciudad_attr_state
            ALTER COLUMN created_at SET DEFAULT now(), ALTER COLUMN created_at SET NOT NULL,
            ALTER COLUMN modified_at SET DEFAULT now(), ALTER COLUMN modified_at SET NOT NULL;
        """
    )
