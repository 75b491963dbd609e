"""Databases of their own for tests, created on the session's PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager

import psycopg
from psycopg.conninfo import make_conninfo

from acquisition import DeviceRegistry
from ciudad.database import open_database
from interoperability.app import DatabaseOpener
from support import Settings
from support.store import Database


def create_database(postgres_uri: str) -> str:
    """A new, empty database; its connection string."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_conninfo(postgres_uri, dbname=name)


def drop_database(postgres_uri: str, database_url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(postgres_uri: str) -> Iterator[str]:
    """A new database for the length of a ``with``, dropped after it."""
    database_url = create_database(postgres_uri)
    try:
        yield database_url
    finally:
        drop_database(postgres_uri, database_url)


@asynccontextmanager
async def opened_database(database_url: str, max_size: int = 4) -> AsyncIterator[Database]:
    """The platform's database at ``database_url`` (its schema created if empty), closed
    after the ``async with``."""
    db = await open_database(database_url, max_size)
    try:
        yield db
    finally:
        await db.close()


def database_at(database_url: str, max_size: int = 4) -> DatabaseOpener:
    """What create_app opens: the platform's database at ``database_url``."""

    def opener(settings: Settings) -> AbstractAsyncContextManager[Database]:
        return opened_database(database_url, max_size)

    return opener


@asynccontextmanager
async def registry_at(database_url: str) -> AsyncIterator[DeviceRegistry]:
    """The device registry on the database at ``database_url``."""
    async with opened_database(database_url, max_size=2) as db:
        yield DeviceRegistry(db)
