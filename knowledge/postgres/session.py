"""What each pooled connection needs before the store uses it: the session's staging tables."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from knowledge.postgres import rollups

_STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS ciudad_staging (
    tenant text, entity_id text, attr text, observed_at timestamptz,
    num double precision, txt text, value_type text, unit_code text, stated boolean
) ON COMMIT DELETE ROWS
"""


async def prepare_session(conn: AsyncConnection[Any]) -> None:
    """Once per pooled connection, not per batch (the Database's session set-up)."""
    await conn.execute(_STAGING_DDL)
    await conn.execute(rollups.SESSION_DDL)
