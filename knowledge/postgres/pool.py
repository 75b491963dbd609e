"""The store's connection pool: session set-up per connection, and the PGlite exception."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from knowledge.postgres import rollups
from support import StoreUnavailableError

_STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS ciudad_staging (
    tenant text, entity_id text, attr text, observed_at timestamptz,
    num double precision, txt text, value_type text, unit_code text
) ON COMMIT DELETE ROWS
"""


async def _prepare_connection(conn: AsyncConnection[Any]) -> None:
    """Once per pooled connection, not per batch: the session's staging tables."""
    await conn.execute(_STAGING_DDL)
    await conn.execute(rollups.SESSION_DDL)


async def is_pglite(dsn: str, timeout_s: float) -> bool:
    """Whether the server is PGlite (PostgreSQL in WASM: no COPY, one backend for all)."""
    try:
        async with await AsyncConnection.connect(
            dsn, autocommit=True, connect_timeout=max(int(timeout_s), 1)
        ) as conn:
            row = await (await conn.execute("SELECT version()")).fetchone()
    except psycopg.OperationalError as exc:
        raise StoreUnavailableError(f"PostgreSQL not reachable: {exc}") from exc
    return row is not None and "emcc" in str(row[0])  # compiled by Emscripten


async def open_pool(
    dsn: str, max_size: int, timeout_s: float, prepare: bool
) -> AsyncConnectionPool[AsyncConnection[Any]]:
    """An open pool of autocommit UTC sessions; StoreUnavailableError if none connects."""
    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
        dsn,
        min_size=1,
        max_size=max_size,
        open=False,
        timeout=timeout_s,
        # PGlite serves every client from one backend, so a new connection would meet
        # the previous one's prepared statements: don't prepare there.
        kwargs={
            "autocommit": True,
            "options": "-c timezone=UTC",
            "prepare_threshold": 5 if prepare else None,
        },
        configure=_prepare_connection,
    )
    try:
        await pool.open(wait=True, timeout=timeout_s)
    except PoolTimeout as exc:
        await pool.close()
        raise StoreUnavailableError(f"PostgreSQL not reachable: {exc}") from exc
    return pool
