"""Schema of the PostgreSQL store and management of its time partitions.

Observations are partitioned by day on ``observed_at``: natively (PARTITION BY
RANGE, one table per day created on demand) or, when the TimescaleDB
extension is available, as a hypertable with one-day chunks.  Either way old
data can later be dropped a whole partition/chunk at a time.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import psycopg
from psycopg import AsyncConnection, sql

from knowledge.postgres.change_feed import CHANGE_FEED_DDL
from knowledge.postgres.ingest_stats import INGEST_STATS_DDL
from knowledge.postgres.rollups import ROLLUP_DDL
from support.store.pg import SCHEMA_LOCK

log = logging.getLogger(__name__)


class Partitioning(StrEnum):
    NATIVE = "native"
    TIMESCALEDB = "timescaledb"


COMMON_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_entities (
    tenant      text        NOT NULL,
    entity_id   text        NOT NULL,
    entity_type text        NOT NULL,
    static      jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, entity_id)
);
CREATE INDEX IF NOT EXISTS ciudad_entities_type
    ON ciudad_entities (tenant, entity_type, entity_id);
CREATE TABLE IF NOT EXISTS ciudad_attr_state (
    tenant      text        NOT NULL,
    entity_id   text        NOT NULL,
    attr        text        NOT NULL,
    observed_at timestamptz NOT NULL,
    num         double precision,
    txt         text,
    value_type  text        NOT NULL,
    unit_code   text,
    PRIMARY KEY (tenant, entity_id, attr)
);
CREATE TABLE IF NOT EXISTS ciudad_dead_letters (
    id          bigserial   PRIMARY KEY,
    received_at timestamptz NOT NULL,
    topic       text        NOT NULL,
    payload     text        NOT NULL,
    reason      text        NOT NULL,
    detail      text        NOT NULL,
    tenant      text,
    device_id   text
);
CREATE INDEX IF NOT EXISTS ciudad_dead_letters_tenant ON ciudad_dead_letters (tenant, id);
"""

_OBSERVATION_COLUMNS = """
    tenant      text             NOT NULL,
    entity_id   text             NOT NULL,
    attr        text             NOT NULL,
    observed_at timestamptz      NOT NULL,
    num         double precision,
    txt         text,
    PRIMARY KEY (tenant, entity_id, attr, observed_at)
"""
NATIVE_DDL = f"""
CREATE TABLE IF NOT EXISTS ciudad_observations ({_OBSERVATION_COLUMNS})
    PARTITION BY RANGE (observed_at);
"""
TIMESCALE_DDL = f"""
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE IF NOT EXISTS ciudad_observations ({_OBSERVATION_COLUMNS});
SELECT create_hypertable('ciudad_observations', 'observed_at',
                         chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE);
"""
# Compressed chunks keep each series together and in time order; chunks are compressed
# once a week old (late readings still insert into compressed chunks: TimescaleDB >= 2.11).
TIMESCALE_COMPRESSION = """
ALTER TABLE ciudad_observations SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'tenant, entity_id, attr',
    timescaledb.compress_orderby = 'observed_at'
);
SELECT add_compression_policy('ciudad_observations', INTERVAL '7 days', if_not_exists => TRUE);
"""


async def detect_partitioning(conn: AsyncConnection) -> Partitioning:
    cur = await conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    return Partitioning.TIMESCALEDB if await cur.fetchone() else Partitioning.NATIVE


async def create_schema(conn: AsyncConnection) -> Partitioning:
    """Creates every table if missing (idempotent, safe to run from several processes)."""
    partitioning = await detect_partitioning(conn)
    async with conn.transaction():
        # Serialises concurrent first starts of several processes on one database.
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        await conn.execute(COMMON_DDL)
        await conn.execute(ROLLUP_DDL)
        await conn.execute(CHANGE_FEED_DDL)
        await conn.execute(INGEST_STATS_DDL)
        if partitioning is Partitioning.NATIVE:
            await conn.execute(NATIVE_DDL)
        else:
            await conn.execute(TIMESCALE_DDL)
            if not await _compression_enabled(conn):
                await conn.execute(TIMESCALE_COMPRESSION)
    log.info("schema ready", extra={"partitioning": partitioning.value})
    return partitioning


async def _compression_enabled(conn: AsyncConnection) -> bool:
    cur = await conn.execute(
        "SELECT compression_enabled FROM timescaledb_information.hypertables "
        "WHERE hypertable_name = 'ciudad_observations'"
    )
    row = await cur.fetchone()
    return bool(row and row[0])


def partition_name(day: date) -> str:
    return f"ciudad_observations_p{day:%Y%m%d}"


def days_covering(times: list[datetime]) -> set[date]:
    return {t.astimezone(UTC).date() for t in times}


async def ensure_day_partitions(conn: AsyncConnection, days: set[date]) -> None:
    """Creates missing daily partitions (native partitioning only)."""
    for day in sorted(days):
        start = datetime(day.year, day.month, day.day).isoformat() + "+00:00"
        end = (datetime(day.year, day.month, day.day) + timedelta(days=1)).isoformat() + "+00:00"
        statement = sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF ciudad_observations "
            "FOR VALUES FROM ({}) TO ({})"
        ).format(sql.Identifier(partition_name(day)), sql.Literal(start), sql.Literal(end))
        try:
            async with conn.transaction():
                await conn.execute(statement)
        except (psycopg.errors.DuplicateTable, psycopg.errors.UniqueViolation):
            # Another gateway worker created it between our check and our CREATE.
            log.debug("partition created concurrently", extra={"day": str(day)})
