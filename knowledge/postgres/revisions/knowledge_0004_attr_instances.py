"""The history of attributes that are no reading (NGSI-LD 4.5.7: every attribute has a
temporal evolution): GeoProperties, Relationships, structured and language values, and the
instances of any attribute that carry a ``datasetId``. Numbers and texts keep their
partitioned ``ciudad_observations``; these are API writes, far fewer, kept whole as jsonb.

Revision ID: knowledge_0004
"""

from support.store import run_sql

revision = "knowledge_0004"
down_revision = "knowledge_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        CREATE TABLE IF NOT EXISTS ciudad_attr_instances (
            tenant      text        NOT NULL,
            entity_id   text        NOT NULL,
            attr        text        NOT NULL,
            observed_at timestamptz NOT NULL,
            dataset_id  text        NOT NULL DEFAULT '',
            instance    jsonb       NOT NULL,
            PRIMARY KEY (tenant, entity_id, attr, observed_at, dataset_id)
        )
        """
    )
