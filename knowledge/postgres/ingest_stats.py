"""Per tenant and minute: how long readings took from their device timestamp to being stored.

Written in each batch's transaction (so replays that store nothing add
nothing), as counts per latency bucket: enough to tell the share of readings
that met any latency objective on a bucket edge, for the service levels.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

# Upper edges in seconds; the last bucket holds everything slower.
LAG_EDGES_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)

_UPSERT = """
INSERT INTO ciudad_ingest_stats AS s (tenant, minute, readings, buckets)
VALUES (%s, %s, %s, %s)
ON CONFLICT (tenant, minute) DO UPDATE SET
    readings = s.readings + excluded.readings,
    buckets = ARRAY(SELECT a + b FROM unnest(s.buckets, excluded.buckets) AS t(a, b))
"""


def bucket_of(lag_s: float) -> int:
    """Index of the first edge at or above ``lag_s`` (the last bucket past them all)."""
    return bisect.bisect_left(LAG_EDGES_S, lag_s)


def latency_rows(
    times: Mapping[tuple[str, datetime], int], stored_at: datetime
) -> list[tuple[str, datetime, int, list[int]]]:
    """(tenant, minute stored, readings, counts per latency bucket) of a batch, from its
    reading counts per tenant and observation time."""
    minute = stored_at.replace(second=0, microsecond=0)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * (len(LAG_EDGES_S) + 1))
    stored_s = stored_at.timestamp()
    for (tenant, observed_at), readings in times.items():
        counts[tenant][bucket_of(stored_s - observed_at.timestamp())] += readings
    return [(tenant, minute, sum(c), c) for tenant, c in counts.items()]


async def record_latency(
    conn: AsyncConnection[Any], times: Mapping[tuple[str, datetime], int], stored_at: datetime
) -> None:
    for row in latency_rows(times, stored_at):  # a row per tenant: a handful
        await conn.execute(_UPSERT, row)
