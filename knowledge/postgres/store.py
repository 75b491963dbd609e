"""The PostgreSQL knowledge store (embedded pgserver by default, any server by DSN)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence, Set
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

import psycopg
from psycopg import AsyncConnection

from acquisition import Batch, DeadLetter, EntityRecord, Reading
from knowledge.postgres import (
    aggregate_queries,
    queries,
    rollups,
)
from knowledge.postgres import ingest_latency as service_levels
from knowledge.postgres.bulk import CopyTransfer, InsertTransfer, Transfer
from knowledge.postgres.change_feed import MERGE_STATE_RECORDING_CHANGES
from knowledge.postgres.entity_lifecycle import EntityLifecycle
from knowledge.postgres.ingest_stats import record_latency
from knowledge.postgres.observations import copy_new_observations
from knowledge.postgres.partitions import (
    Partitioning,
    days_covering,
    ensure_day_partitions,
    partitioning_of,
)
from knowledge.postgres.retention import RetentionPolicy, RetentionReport, apply_retention
from knowledge.postgres.staged import StagedBatch, merge_staged, stage_batch
from knowledge.postgres.staging import stage
from knowledge.query.filters import EntityQuery
from knowledge.query.records import (
    AttributeHistory,
    AttributeUse,
    EntityState,
    ExportRow,
    LatencyCounts,
    NumericSeries,
    SeriesAggregates,
    TimeRange,
)
from support import InvalidQueryError
from support.store import Database

log = logging.getLogger(__name__)


class ReadingsMirror(Protocol):
    """Another time-series store that gets a copy of every committed batch's readings."""

    async def write_readings(self, readings: Sequence[Reading]) -> None: ...

    def close(self) -> None: ...


# Strictly newer only: at an equal time the first value stays, as it does in the history
# (observations keep the first reading of a series at a time).
# One statement for the batch's entities (a thousand devices are a thousand rows, not a
# thousand round trips), sent as one JSON document (psycopg adapts Python lists element by
# element, ~25 us each); the caller makes them distinct, as ON CONFLICT requires. Rows
# already as sent are left alone: not even locked, which a no-op DO UPDATE would do.
_UPSERT_ENTITY = """
WITH incoming (tenant, entity_id, entity_type, static) AS (
    SELECT * FROM jsonb_to_recordset(%s::jsonb) AS i(t text, i text, y text, s jsonb)
)
INSERT INTO ciudad_entities AS e (tenant, entity_id, entity_type, static)
SELECT i.tenant, i.entity_id, i.entity_type, i.static
FROM incoming i LEFT JOIN ciudad_entities old USING (tenant, entity_id)
WHERE old.entity_id IS NULL OR old.entity_type IS DISTINCT FROM i.entity_type
   OR old.static IS DISTINCT FROM i.static
ON CONFLICT (tenant, entity_id) DO UPDATE SET
    entity_type = excluded.entity_type, static = excluded.static, modified_at = now()
"""
_DEAD_LETTER_COLUMNS = ("received_at", "topic", "payload", "reason", "detail", "tenant",
                        "device_id")  # fmt: skip


@asynccontextmanager
async def _query_errors() -> AsyncIterator[None]:
    """Errors of a user's query (bad regular expression, number out of range) are theirs."""
    try:
        yield
    except (psycopg.errors.InvalidRegularExpression, psycopg.errors.DataException) as exc:
        raise InvalidQueryError(str(exc).splitlines()[0]) from exc


class PostgresStore(EntityLifecycle):
    """Writes batches idempotently with COPY and answers the read queries of the API."""

    def __init__(
        self,
        db: Database,
        partitioning: Partitioning,
        mirror: ReadingsMirror | None = None,
    ) -> None:
        self._db = db
        # The WASM build of PostgreSQL (PGlite, our TimescaleDB test server) cannot COPY.
        self._transfer: Transfer = InsertTransfer() if db.single_backend else CopyTransfer()
        self._mirror = mirror
        self._partitioning = partitioning
        self._known_days: set[date] = set()
        self._owns_database = False

    @classmethod
    async def open(
        cls, db: Database, mirror: ReadingsMirror | None = None, owns_database: bool = False
    ) -> PostgresStore:
        """The store over ``db``, whose pool runs ``prepare_session`` on each connection.

        ``mirror`` also receives every batch's readings once they are committed;
        ``owns_database``: close() closes ``db`` too (a store opened on its own)."""
        async with db.connection() as conn:
            partitioning = await partitioning_of(conn)
        store = cls(db, partitioning, mirror)
        store._owns_database = owns_database
        return store

    async def close(self) -> None:
        if self._mirror is not None:
            self._mirror.close()
        if self._owns_database:
            await self._db.close()

    @property
    def partitioning(self) -> Partitioning:
        return self._partitioning

    def connection(self) -> AbstractAsyncContextManager[AsyncConnection[Any]]:
        """A pooled connection; connection-level failures become StoreUnavailableError."""
        return self._db.connection()

    async def ping(self) -> None:
        async with self.connection() as conn:
            await conn.execute("SELECT 1")

    # ---- writes -------------------------------------------------------------------------
    def stage_batch(self, batch: Batch) -> StagedBatch:
        """The batch's Python work for the write, done ahead (pure: no connection)."""
        return stage_batch(batch)

    def merge_staged(self, parts: Sequence[StagedBatch], batch: Batch) -> StagedBatch:
        return merge_staged(parts, batch)

    async def write_batch(self, batch: Batch) -> None:
        """Stores a batch in one transaction; replaying the same batch changes nothing."""
        await self.write_staged(stage_batch(batch))

    async def write_staged(self, staged: StagedBatch) -> None:
        """Stores a staged batch in one transaction, as ``write_batch`` does."""
        batch = staged.batch
        async with self.connection() as conn:
            await self._ensure_days(conn, staged.days)
            async with conn.transaction():
                if batch.entities:
                    await self._upsert_entities(conn, batch.entities)
                if batch.readings and await self._merge_staged(conn, staged):
                    await record_latency(conn, staged.times, datetime.now(UTC))
                if batch.dead_letters:
                    await self._insert_dead_letters(conn, batch.dead_letters)
        if self._mirror is not None and batch.readings:
            # After the commit: a failing mirror fails the batch, which is then retried
            # (or spooled) whole; the replay changes nothing here and overwrites there.
            await self._mirror.write_readings(batch.readings)

    async def ingest_latency(self, tenant: str, window: TimeRange) -> LatencyCounts:
        async with self.connection() as conn:
            return await service_levels.ingest_latency(conn, tenant, window)

    async def readings_per_entity(self, tenant: str, window: TimeRange) -> dict[str, int]:
        async with self.connection() as conn:
            return await service_levels.readings_per_entity(conn, tenant, window)

    async def _ensure_partitions(
        self, conn: AsyncConnection[Any], readings: tuple[Reading, ...]
    ) -> None:
        await self._ensure_days(conn, days_covering([r.observed_at for r in readings]))

    async def _ensure_days(self, conn: AsyncConnection[Any], days: Set[date]) -> None:
        if self._partitioning is not Partitioning.NATIVE or not days:
            return
        missing = days - self._known_days
        if missing:
            await ensure_day_partitions(conn, set(missing))
            self._known_days |= missing

    async def _upsert_entities(
        self, conn: AsyncConnection[Any], entities: tuple[EntityRecord, ...]
    ) -> None:
        distinct = {(e.tenant, e.entity_id): e for e in entities}.values()
        document = json.dumps(
            [{"t": e.tenant, "i": e.entity_id, "y": e.entity_type, "s": e.static} for e in distinct]
        )
        async with conn.cursor() as cur:
            await cur.execute(_UPSERT_ENTITY, (document,))

    async def _merge_readings(
        self, conn: AsyncConnection[Any], readings: tuple[Reading, ...]
    ) -> int:
        """Stores readings; returns how many numeric ones were new (0 for a replay)."""
        return await self._merge_staged(conn, stage_batch(Batch(readings)))

    async def _merge_staged(self, conn: AsyncConnection[Any], staged: StagedBatch) -> int:
        transfer = self._transfer
        async with conn.cursor() as cur:
            new = None if staged.history else 0
            if new is None and transfer.direct_copy:
                new = await copy_new_observations(cur, transfer, staged)
            if new is None:  # something of it was stored before: the staged path sorts it out
                await stage(cur, transfer, "ciudad_staging", staged.history)
                new = await rollups.store_observations(cur, transfer)
            await stage(cur, transfer, "ciudad_staging_latest", staged.latest.values())
            await cur.execute(MERGE_STATE_RECORDING_CHANGES)
            return new

    async def _insert_dead_letters(
        self, conn: AsyncConnection[Any], letters: tuple[DeadLetter, ...]
    ) -> None:
        rows = (
            (
                d.received_at,
                d.topic,
                d.payload.replace("\x00", "\ufffd"),
                d.reason,
                d.detail,
                d.tenant,
                d.device_id,
            )
            for d in letters
        )
        async with conn.cursor() as cur:
            await self._transfer.load_rows(cur, "ciudad_dead_letters", _DEAD_LETTER_COLUMNS, rows)

    # ---- reads --------------------------------------------------------------------------
    async def list_entities(
        self,
        tenant: str,
        entity_type: str | None,
        limit: int,
        offset: int,
        query: EntityQuery | None = None,
    ) -> list[EntityState]:
        async with self.connection() as conn, _query_errors():
            return await queries.list_entities(conn, tenant, entity_type, limit, offset, query)

    async def count_entities(
        self, tenant: str, entity_type: str | None, query: EntityQuery | None = None
    ) -> int:
        async with self.connection() as conn, _query_errors():
            return await queries.count_entities(conn, tenant, entity_type, query)

    async def entity_types(self, tenant: str) -> dict[str, int]:
        """Entity types of the tenant with their entity counts."""
        async with self.connection() as conn:
            return await queries.entity_types(conn, tenant)

    async def attribute_uses(self, tenant: str) -> list[AttributeUse]:
        """Every (entity type, attribute, attribute type) of the tenant with its entities."""
        async with self.connection() as conn:
            return await queries.attribute_uses(conn, tenant)

    async def get_entity(self, tenant: str, entity_id: str) -> EntityState:
        async with self.connection() as conn:
            return await queries.get_entity(conn, tenant, entity_id)

    async def history(
        self,
        tenant: str,
        entity_id: str,
        attrs: list[str] | None,
        window: TimeRange,
        last_n: int | None = None,
        first_n: int | None = None,
    ) -> list[AttributeHistory]:
        async with self.connection() as conn:
            return await queries.history(conn, tenant, entity_id, attrs, window, last_n, first_n)

    async def numeric_series(
        self, tenant: str, entity_type: str, attr: str, window: TimeRange
    ) -> list[NumericSeries]:
        async with self.connection() as conn:
            return await queries.numeric_series(conn, tenant, entity_type, attr, window)

    async def aggregate(
        self,
        tenant: str,
        attr: str,
        period_s: int,
        window: TimeRange,
        entity_type: str | None = None,
        entity_ids: list[str] | None = None,
        percentiles: bool = False,
        origin: datetime | Literal["first"] | None = None,
    ) -> SeriesAggregates:
        return await aggregate_queries.aggregate(
            self.connection,
            self._db.max_size,
            tenant,
            attr,
            period_s,
            window,
            entity_type,
            entity_ids,
            percentiles,
            origin,
        )

    async def distinct_counts(
        self,
        tenant: str,
        entity_id: str,
        attr: str,
        period_s: int | None,
        window: TimeRange,
    ) -> list[tuple[datetime, int]]:
        async with self.connection() as conn:
            return await queries.distinct_counts(conn, tenant, entity_id, attr, period_s, window)

    async def apply_retention(self, policy: RetentionPolicy, now: datetime) -> RetentionReport:
        async with self.connection() as conn:
            report = await apply_retention(conn, self._partitioning, policy, now)
        if policy.raw_days:
            oldest_kept = (now - timedelta(days=policy.raw_days)).date()
            self._known_days = {d for d in self._known_days if d >= oldest_kept}
        return report

    async def export_rows(
        self, tenant: str, entity_type: str, attrs: list[str] | None, window: TimeRange
    ) -> AsyncIterator[ExportRow]:
        async with self.connection() as conn:
            async for row in queries.export_rows(conn, tenant, entity_type, attrs, window):
                yield row

    async def dead_letters(self, tenant: str | None, limit: int) -> list[DeadLetter]:
        async with self.connection() as conn:
            return await queries.dead_letters(conn, tenant, limit)
