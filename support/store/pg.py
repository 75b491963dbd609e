"""PostgreSQL helpers shared by the layers that keep tables."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

# One lock for every CREATE ... IF NOT EXISTS: processes starting together on an
# empty database would otherwise race on the catalogue (unique violations).
SCHEMA_LOCK = 178104


async def ensure_schema(pool: AsyncConnectionPool[AsyncConnection[Any]], *ddl: str) -> None:
    """Runs idempotent DDL in one transaction, serialised across processes."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        for statement in ddl:
            await conn.execute(statement)
