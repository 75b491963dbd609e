"""What each pooled connection needs before the store uses it: the session's staging tables."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from knowledge.postgres import rollups
from knowledge.postgres.staging import STAGING_DDL


async def prepare_session(conn: AsyncConnection[Any]) -> None:
    """Once per pooled connection, not per batch (the Database's session set-up)."""
    await conn.execute(STAGING_DDL)
    await conn.execute(rollups.SESSION_DDL)
