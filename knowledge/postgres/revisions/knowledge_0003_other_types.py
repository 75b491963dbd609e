"""Entities of several types (NGSI-LD 4.16): the first type stays in ``entity_type`` (every
per-type path, the gateway's included, uses it as before), the others in ``other_types``.

Revision ID: knowledge_0003
"""

from support.store import run_sql

revision = "knowledge_0003"
down_revision = "knowledge_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        "ALTER TABLE ciudad_entities "
        "ADD COLUMN IF NOT EXISTS other_types text[] NOT NULL DEFAULT '{}'"
    )
    run_sql(
        "CREATE INDEX IF NOT EXISTS ciudad_entities_other_types "
        "ON ciudad_entities USING gin (other_types)"
    )
