"""What the service-level objectives are computed from: ingest latency counts and, per
sensor, how many readings arrived."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from knowledge.postgres.ingest_stats import LAG_EDGES_S
from knowledge.query.records import LatencyCounts, TimeRange


async def ingest_latency(
    conn: AsyncConnection[Any], tenant: str, window: TimeRange
) -> LatencyCounts:
    cur = await conn.execute(
        "SELECT readings, buckets FROM ciudad_ingest_stats "
        "WHERE tenant = %s AND minute >= %s AND minute < %s",
        (tenant, window.start, window.end),
    )
    total, sums = 0, [0] * (len(LAG_EDGES_S) + 1)
    for readings, buckets in await cur.fetchall():
        total += readings
        sums = [a + b for a, b in zip(sums, buckets, strict=True)]
    return LatencyCounts(total, tuple(sums))


async def readings_per_entity(
    conn: AsyncConnection[Any], tenant: str, window: TimeRange
) -> dict[str, int]:
    """Per entity, the readings of its best-reported attribute in the window."""
    cur = await conn.execute(
        "SELECT entity_id, max(n) FROM (SELECT entity_id, attr, count(*) AS n "
        "FROM ciudad_observations WHERE tenant = %s AND observed_at >= %s AND observed_at < %s "
        "GROUP BY entity_id, attr) per_attribute GROUP BY entity_id",
        (tenant, window.start, window.end),
    )
    return {entity_id: int(n) for entity_id, n in await cur.fetchall()}
