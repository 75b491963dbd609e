"""Builds the configured knowledge store (the one place that chooses a backend)."""

from __future__ import annotations

import asyncio

from knowledge.embedded import start_embedded_postgres
from knowledge.postgres import PostgresStore
from support import Settings


async def resolve_dsn(settings: Settings) -> str:
    """The configured DSN, or the embedded PostgreSQL's (started if needed)."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return await asyncio.to_thread(start_embedded_postgres, settings.embedded_db_dir)


async def open_store(settings: Settings) -> PostgresStore:
    return await PostgresStore.open(
        await resolve_dsn(settings), max_size=settings.db_pool_max, timeout_s=settings.db_timeout_s
    )
