"""The platform's database, built once per process and handed to every owner of tables."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import acquisition
import interoperability
import knowledge
import support.store
from knowledge import PostgresStore, ReadingsMirror, open_store, prepare_session, resolve_dsn
from support import Settings
from support.store import Database, Migrations


def platform_migrations() -> Migrations:
    """Every layer's revisions: one branch each (support's audit log, the registry and
    command queue, the knowledge store, the API's tables)."""
    return Migrations(
        (
            support.store.MIGRATIONS,
            acquisition.MIGRATIONS,
            knowledge.MIGRATIONS,
            interoperability.MIGRATIONS,
        )
    )


async def open_database(dsn: str, max_size: int = 4, timeout_s: float = 30.0) -> Database:
    """The database at ``dsn``, checked against the platform's revisions (SchemaVersionError
    unless current; an empty one gets the schema)."""
    return await Database.open(
        dsn, platform_migrations(), max_size, timeout_s, session_setup=(prepare_session,)
    )


async def check_schema(settings: Settings) -> None:
    """SchemaVersionError unless the configured database is current (an empty one gets the
    schema): what a process checks before it does anything else."""
    dsn = await resolve_dsn(settings)
    await asyncio.to_thread(platform_migrations().ensure_current, dsn)


@asynccontextmanager
async def platform_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured database (embedded unless CIUDAD_DATABASE_URL), closed on exit."""
    db = await open_database(
        await resolve_dsn(settings), settings.db_pool_max, settings.db_timeout_s
    )
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def platform_read_database(settings: Settings) -> AsyncIterator[Database | None]:
    """Where the API's queries read (CIUDAD_DATABASE_READ_URL, e.g. a standby), closed on
    exit; None: they read the platform database. No session set-up: a standby refuses the
    temporary tables that writes stage in."""
    if settings.database_read_url is None:
        yield None
        return
    db = await Database.open(
        settings.database_read_url.get_secret_value(),
        platform_migrations(),
        settings.db_pool_max,
        settings.db_timeout_s,
        application_name="ciudad-api-read",
    )
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def platform_store(settings: Settings) -> AsyncIterator[PostgresStore]:
    """The knowledge store on the configured database, for one-off commands."""
    async with platform_database(settings) as db:
        store = await open_store(db, settings)
        try:
            yield store
        finally:
            await store.close()


async def open_store_at(
    dsn: str,
    max_size: int = 4,
    timeout_s: float = 30.0,
    mirror: ReadingsMirror | None = None,
) -> PostgresStore:
    """The knowledge store on a database of its own, closed with the store (benchmarks,
    tests, tools that need nothing else)."""
    db = await open_database(dsn, max_size, timeout_s)
    return await PostgresStore.open(db, mirror, owns_database=True)
