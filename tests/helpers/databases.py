"""Databases of their own for tests, created on the session's PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import make_conninfo


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
