"""Retention: how long each resolution is kept, and dropping what is older.

Raw observations go a whole partition at a time: a native daily partition is
dropped once its whole day is older than the cut-off; with TimescaleDB,
``drop_chunks``.  Roll-ups are deleted per resolution by bucket end (a BRIN
index on ``bucket`` keeps that cheap).  Dead letters go by the time they were
received, so a device that floods the gateway with refused input cannot fill the
disk for good.  ``None`` keeps a resolution (or the dead letters) forever.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection, sql

from knowledge.postgres.partitions import Partitioning

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days to keep raw observations, each roll-up resolution (by seconds) and dead letters."""

    raw_days: int | None = 30
    rollup_days: Mapping[int, int | None] = field(
        default_factory=lambda: {60: 365, 900: 730, 3600: None, 86_400: None}
    )
    dead_letter_days: int | None = 30


@dataclass(frozen=True, slots=True)
class RetentionReport:
    dropped_partitions: tuple[str, ...]
    deleted_rollups: Mapping[int, int]  # resolution -> rows deleted (with their histograms)
    deleted_dead_letters: int = 0


async def apply_retention(
    conn: AsyncConnection[Any], partitioning: Partitioning, policy: RetentionPolicy, now: datetime
) -> RetentionReport:
    dropped: tuple[str, ...] = ()
    if policy.raw_days is not None:
        cutoff = now - timedelta(days=policy.raw_days)
        if partitioning is Partitioning.TIMESCALEDB:
            dropped = await _drop_chunks(conn, cutoff)
        else:
            dropped = await _drop_partitions(conn, cutoff)
        # the kept instances' history follows the raw readings' (the current value stays)
        await conn.execute("DELETE FROM ciudad_attr_instances WHERE observed_at < %s", (cutoff,))
    deleted = {}
    for seconds, days in policy.rollup_days.items():
        if days is not None:
            deleted[seconds] = await _delete_rollups(conn, seconds, now - timedelta(days=days))
    dead_letters = 0
    if policy.dead_letter_days is not None:
        cutoff = now - timedelta(days=policy.dead_letter_days)
        cur = await conn.execute(
            "DELETE FROM ciudad_dead_letters WHERE received_at < %s", (cutoff,)
        )
        dead_letters = cur.rowcount
    report = RetentionReport(dropped, deleted, dead_letters)
    log.info(
        "retention applied",
        extra={"dropped": len(dropped), "deleted": dict(deleted), "dead_letters": dead_letters},
    )
    return report


async def _drop_chunks(conn: AsyncConnection[Any], cutoff: datetime) -> tuple[str, ...]:
    cur = await conn.execute(
        "SELECT drop_chunks('ciudad_observations', older_than => %s::timestamptz)", (cutoff,)
    )
    return tuple(str(row[0]) for row in await cur.fetchall())


async def _drop_partitions(conn: AsyncConnection[Any], cutoff: datetime) -> tuple[str, ...]:
    cur = await conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'ciudad_observations'::regclass ORDER BY 1"
    )
    dropped = []
    for (name,) in await cur.fetchall():
        day = _partition_day(str(name))
        if day is not None and day + timedelta(days=1) <= cutoff.date():
            await conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
            dropped.append(str(name))
    return tuple(dropped)


def _partition_day(name: str) -> date | None:
    try:
        return datetime.strptime(name.removeprefix("ciudad_observations_p"), "%Y%m%d").date()
    except ValueError:
        return None


async def _delete_rollups(conn: AsyncConnection[Any], seconds: int, cutoff: datetime) -> int:
    """Deletes buckets that ended before the cut-off; returns how many roll-up rows went."""
    async with conn.transaction():
        window = timedelta(seconds=seconds)
        await conn.execute(
            "DELETE FROM ciudad_rollup_hist WHERE resolution_s = %s AND bucket + %s <= %s",
            (seconds, window, cutoff),
        )
        cur = await conn.execute(
            "DELETE FROM ciudad_rollups WHERE resolution_s = %s AND bucket + %s <= %s",
            (seconds, window, cutoff),
        )
        return cur.rowcount
