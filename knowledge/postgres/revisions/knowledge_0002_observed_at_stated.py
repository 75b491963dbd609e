"""Whether an attribute's current observedAt was stated by its writer.

A Property written through the API without ``observedAt`` is still a reading (history at
the time it was written), but the entity must not show an ``observedAt`` nobody gave
(NGSI-LD 4.5.2). Rows from before keep true: every one of them showed it.

Revision ID: knowledge_0002
"""

from support.store import run_sql

revision = "knowledge_0002"
down_revision = "knowledge_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        "ALTER TABLE ciudad_attr_state "
        "ADD COLUMN IF NOT EXISTS observed_at_stated boolean NOT NULL DEFAULT true"
    )
