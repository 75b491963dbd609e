"""Soft deletion (NGSI-LD 1.8, 4.5.7): deleting an attribute leaves in its temporal
evolution an instance stating the deletion, with NGSI-LD Null as its value and a
``deletedAt`` instead of an ``observedAt``. Such a row is ``deleted``, and its
``observed_at`` holds the deletion time; it is part of the key, so a deletion at the time
of an observation replaces nothing.

Revision ID: knowledge_0006
"""

from support.store import run_sql

revision = "knowledge_0006"
down_revision = "knowledge_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE ciudad_attr_instances
            ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false;
        ALTER TABLE ciudad_attr_instances DROP CONSTRAINT IF EXISTS ciudad_attr_instances_pkey;
        ALTER TABLE ciudad_attr_instances
            ADD PRIMARY KEY (tenant, entity_id, attr, observed_at, dataset_id, deleted);
        """
    )
