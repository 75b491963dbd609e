"""Time partitions of the observations table (its definition is in revisions/).

Observations are partitioned by day on ``observed_at``: natively (PARTITION BY
RANGE, one table per day created on demand here) or, when the TimescaleDB
extension was available at the first migration, as a hypertable with one-day
chunks. Either way old data can later be dropped a whole partition/chunk at a time.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import psycopg
from psycopg import AsyncConnection, sql

log = logging.getLogger(__name__)


class Partitioning(StrEnum):
    NATIVE = "native"
    TIMESCALEDB = "timescaledb"


async def partitioning_of(conn: AsyncConnection) -> Partitioning:
    """How the database's observations table is partitioned (the migration chose it)."""
    cur = await conn.execute(
        "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('ciudad_observations')"
    )
    return Partitioning.NATIVE if await cur.fetchone() else Partitioning.TIMESCALEDB


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
