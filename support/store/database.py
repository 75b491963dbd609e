"""The one door to PostgreSQL: a process's pool, its dedicated sessions and the schema check.

Built once per process (``ciudad/`` does it) and handed to every owner of tables:
the knowledge store, the device registry, the command queue, the API's tables and
the audit log share its pool. Opening it refuses a database whose schema is not the
one this code knows (``support.store.migrations``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from support.errors import StoreUnavailableError
from support.store.migrations import Migrations

Connection = AsyncConnection[Any]
SessionSetup = Callable[[Connection], Awaitable[None]]
_UTC = "-c timezone=UTC"


async def is_single_backend(dsn: str, timeout_s: float) -> bool:
    """Whether the server is PGlite (PostgreSQL in WASM: no COPY, one backend for all)."""
    try:
        async with await AsyncConnection.connect(
            dsn, autocommit=True, connect_timeout=max(int(timeout_s), 1)
        ) as conn:
            row = await (await conn.execute("SELECT version()")).fetchone()
    except psycopg.OperationalError as exc:
        raise StoreUnavailableError(f"PostgreSQL not reachable: {exc}") from exc
    return row is not None and "emcc" in str(row[0])  # compiled by Emscripten


async def try_session_lock(conn: Connection, key: int) -> bool:
    """Whether this session (a ``Database.session()``) now holds the advisory lock ``key``,
    until it ends; a dead connection raises."""
    row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))).fetchone()
    return bool(row and row[0])


class Database:
    """One database: autocommit UTC sessions from one pool, errors as StoreUnavailableError."""

    def __init__(self, dsn: str, pool: AsyncConnectionPool[Connection], single: bool) -> None:
        self._dsn = dsn
        self._pool = pool
        self._single = single

    @classmethod
    async def open(
        cls,
        dsn: str,
        migrations: Migrations,
        max_size: int = 4,
        timeout_s: float = 30.0,
        session_setup: Sequence[SessionSetup] = (),
        application_name: str | None = None,
    ) -> Database:
        """Checks the schema (creating it in an empty database), then opens the pool.

        SchemaVersionError if the schema is behind or ahead of ``migrations``;
        ``session_setup`` runs once on each new pooled connection."""
        single = await is_single_backend(dsn, timeout_s)
        await asyncio.to_thread(migrations.ensure_current, dsn)

        async def configure(conn: Connection) -> None:
            for setup in session_setup:
                await setup(conn)

        # PGlite serves every client from one backend, so a new connection would meet the
        # previous one's prepared statements: don't prepare there.
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "options": _UTC,
            "prepare_threshold": None if single else 5,
        }
        if application_name is not None:  # which pool a connection is, in pg_stat_activity
            kwargs["application_name"] = application_name
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            dsn,
            min_size=1,
            max_size=1 if single else max_size,
            open=False,
            timeout=timeout_s,
            # A lost connection is replaced with a backoff that doubles up to
            # reconnect_timeout (5 min by default): after a failover the new primary would
            # wait for the next far-off attempt. Giving up after timeout_s instead lets the
            # next request start a fresh, immediate attempt (docs/scaling.md).
            reconnect_timeout=timeout_s,
            kwargs=kwargs,
            configure=configure,
        )
        try:
            await pool.open(wait=True, timeout=timeout_s)
        except PoolTimeout as exc:
            await pool.close()
            raise StoreUnavailableError(f"PostgreSQL not reachable: {exc}") from exc
        return cls(dsn, pool, single)

    @property
    def max_size(self) -> int:
        """How many connections may be open at once (queries split work by it)."""
        return self._pool.max_size

    @property
    def single_backend(self) -> bool:
        """PGlite: one connection at a time and no COPY."""
        return self._single

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; connection-level failures become StoreUnavailableError."""
        try:
            async with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreUnavailableError(f"PostgreSQL unavailable: {exc}") from exc

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Connection]:
        """A connection of its own, outside the pool, for what lives in a session (LISTEN,
        session advisory locks); failures become StoreUnavailableError."""
        try:
            async with await AsyncConnection.connect(
                self._dsn, autocommit=True, options=_UTC
            ) as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"PostgreSQL session lost: {exc}") from exc

    async def ping(self) -> None:
        async with self.connection() as conn:
            await conn.execute("SELECT 1")

    async def close(self) -> None:
        await self._pool.close()
