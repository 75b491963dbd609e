"""Persisted roll-ups: partial aggregates per (series, window) kept as data arrive.

Each batch's newly stored numeric readings are summarised by the core
(:mod:`knowledge.aggregate.partials`) at every resolution and merged into
``ciudad_rollups`` / ``ciudad_rollup_hist`` by an upsert that applies the same
merge in SQL (counts and sums add, extremes widen, first/last move).  Only
readings the batch really inserted are summarised, so a replay adds nothing.

Resolutions: 1 min (no histogram: with a few readings per window it would be
as large as the raw data), 15 min with a histogram, and 1 h and 1 day rolled
up from the 15-min partials with :func:`knowledge.aggregate.partials.rebucket`.
A series (tenant, entity, attribute) is an integer id, so roll-up rows are
fixed-width and travel as binary COPY built and parsed by numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from psycopg import AsyncCursor, sql

from knowledge.aggregate.partials import DB_HISTOGRAM, Partials, rebucket, summarise
from knowledge.postgres.bulk import Column, Transfer, fetch_columns

SECOND_US = 1_000_000
DECIBEL_UNIT = "2N"  # UN/CEFACT code of dB: averages of these attributes are energetic


@dataclass(frozen=True, slots=True)
class Resolution:
    seconds: int
    histogram: bool

    @property
    def window_us(self) -> int:
        return self.seconds * SECOND_US


MINUTE = Resolution(60, histogram=False)
QUARTER_HOUR = Resolution(900, histogram=True)
HOUR = Resolution(3600, histogram=True)
DAY = Resolution(86_400, histogram=True)
RESOLUTIONS = (MINUTE, QUARTER_HOUR, HOUR, DAY)

_NEW_READINGS = (
    Column("series_id", "int4"),
    Column("observed_at", "timestamptz"),
    Column("num", "float8"),
    Column("energetic", "bool"),
)
ROLLUP_COLUMNS = (
    Column("series_id", "int4"),
    Column("resolution_s", "int4"),
    Column("bucket", "timestamptz"),
    Column("n", "int8"),
    Column("total", "float8"),
    Column("total_sq", "float8"),
    Column("vmin", "float8"),
    Column("vmax", "float8"),
    Column("first_at", "timestamptz"),
    Column("first_v", "float8"),
    Column("last_at", "timestamptz"),
    Column("last_v", "float8"),
    Column("energy", "float8"),
)
HIST_COLUMNS = (
    Column("series_id", "int4"),
    Column("resolution_s", "int4"),
    Column("bucket", "timestamptz"),
    Column("bin", "int4"),
    Column("n", "int8"),
)
# What aggregate queries read, packed once per row when it is written (see fetch_columns).
READ_COLUMNS = tuple(c for c in ROLLUP_COLUMNS if c.name != "resolution_s")

# Per connection (the pool's configure hook), emptied at every commit.
SESSION_DDL = """
CREATE TEMP TABLE IF NOT EXISTS ciudad_new_readings (
    series_id integer, observed_at timestamptz, num double precision, energetic boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ciudad_rollup_staging (
    series_id integer, resolution_s integer, bucket timestamptz, n bigint,
    total double precision, total_sq double precision, vmin double precision,
    vmax double precision, first_at timestamptz, first_v double precision,
    last_at timestamptz, last_v double precision, energy double precision
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ciudad_rollup_hist_staging (
    series_id integer, resolution_s integer, bucket timestamptz, bin integer, n bigint
) ON COMMIT DELETE ROWS;
"""
ENSURE_SERIES = f"""
INSERT INTO ciudad_series (tenant, entity_id, attr, energetic)
SELECT DISTINCT ON (tenant, entity_id, attr)
    tenant, entity_id, attr, coalesce(unit_code = '{DECIBEL_UNIT}', false)
FROM ciudad_staging WHERE num IS NOT NULL
ON CONFLICT DO NOTHING
"""
INSERT_OBSERVATIONS = """
WITH inserted AS (
    INSERT INTO ciudad_observations (tenant, entity_id, attr, observed_at, num, txt)
    SELECT tenant, entity_id, attr, observed_at, num, txt FROM ciudad_staging
    WHERE value_type <> 'DateTime'
    ON CONFLICT DO NOTHING
    RETURNING tenant, entity_id, attr, observed_at, num
)
INSERT INTO ciudad_new_readings (series_id, observed_at, num, energetic)
SELECT s.series_id, i.observed_at, i.num, s.energetic
FROM inserted i JOIN ciudad_series s USING (tenant, entity_id, attr)
WHERE i.num IS NOT NULL
"""
_STATS = ", ".join(c.name for c in ROLLUP_COLUMNS)
MERGE_ROLLUPS = f"""
INSERT INTO ciudad_rollups AS r ({_STATS})
SELECT {_STATS} FROM ciudad_rollup_staging
ON CONFLICT (series_id, resolution_s, bucket) DO UPDATE SET
    n = r.n + excluded.n,
    total = r.total + excluded.total,
    total_sq = r.total_sq + excluded.total_sq,
    vmin = least(r.vmin, excluded.vmin),
    vmax = greatest(r.vmax, excluded.vmax),
    first_v = CASE WHEN (excluded.first_at, excluded.first_v) < (r.first_at, r.first_v)
                   THEN excluded.first_v ELSE r.first_v END,
    first_at = least(r.first_at, excluded.first_at),
    last_v = CASE WHEN (excluded.last_at, excluded.last_v) > (r.last_at, r.last_v)
                  THEN excluded.last_v ELSE r.last_v END,
    last_at = greatest(r.last_at, excluded.last_at),
    energy = r.energy + excluded.energy
"""
MERGE_HISTOGRAMS = """
INSERT INTO ciudad_rollup_hist AS h (series_id, resolution_s, bucket, bin, n)
SELECT series_id, resolution_s, bucket, bin, n FROM ciudad_rollup_hist_staging
ON CONFLICT (series_id, resolution_s, bucket, bin) DO UPDATE SET n = h.n + excluded.n
"""


def partials_per_resolution(
    series: np.ndarray[Any, Any],
    times_us: np.ndarray[Any, Any],
    values: np.ndarray[Any, Any],
    energetic: np.ndarray[Any, Any],
) -> dict[Resolution, Partials]:
    """A batch's contribution to every resolution (1 h and 1 day from 15 min)."""
    minute = summarise(series, times_us, values, MINUTE.window_us, energetic, None)
    quarter = summarise(series, times_us, values, QUARTER_HOUR.window_us, energetic, DB_HISTOGRAM)
    hour = rebucket(quarter, HOUR.window_us)
    return {MINUTE: minute, QUARTER_HOUR: quarter, HOUR: hour, DAY: rebucket(hour, DAY.window_us)}


def rollup_columns(resolution: Resolution, p: Partials) -> dict[str, np.ndarray[Any, Any]]:
    return {
        "series_id": p.series,
        "resolution_s": np.full(len(p), resolution.seconds),
        "bucket": p.bucket,
        "n": p.count,
        "total": p.total,
        "total_sq": p.total_sq,
        "vmin": p.minimum,
        "vmax": p.maximum,
        "first_at": p.first_at,
        "first_v": p.first,
        "last_at": p.last_at,
        "last_v": p.last,
        "energy": p.energy,
    }


def histogram_columns(resolution: Resolution, p: Partials) -> dict[str, np.ndarray[Any, Any]]:
    return {
        "series_id": p.series[p.hist_row],
        "resolution_s": np.full(p.hist_row.size, resolution.seconds),
        "bucket": p.bucket[p.hist_row],
        "bin": p.hist_bin,
        "n": p.hist_count,
    }


def _concat(parts: list[dict[str, np.ndarray[Any, Any]]]) -> dict[str, np.ndarray[Any, Any]]:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


async def store_observations(cur: AsyncCursor[Any], transfer: Transfer) -> int:
    """Moves staged readings into observations and their partials into the roll-ups.

    Runs inside the caller's transaction; returns how many numeric readings were new.
    """
    await cur.execute(ENSURE_SERIES)
    await cur.execute(INSERT_OBSERVATIONS)
    return await merge_new_readings(cur, transfer)


async def merge_new_readings(cur: AsyncCursor[Any], transfer: Transfer) -> int:
    """Summarises ``ciudad_new_readings`` into the roll-ups; returns how many there were."""
    new = await fetch_columns(cur, sql.SQL("FROM ciudad_new_readings"), _NEW_READINGS)
    return await merge_partials(cur, transfer, new)


async def merge_partials(
    cur: AsyncCursor[Any], transfer: Transfer, new: dict[str, np.ndarray[Any, Any]]
) -> int:
    """Merges the roll-ups of new readings (columns series_id, observed_at in microseconds,
    num, energetic); returns how many there were."""
    count = int(new["series_id"].size)
    if count == 0:
        return 0
    per_resolution = partials_per_resolution(
        new["series_id"].astype(np.int64), new["observed_at"], new["num"], new["energetic"]
    )
    rollups = _concat([rollup_columns(r, p) for r, p in per_resolution.items()])
    histograms = _concat([histogram_columns(r, p) for r, p in per_resolution.items()])
    await transfer.load(cur, "ciudad_rollup_staging", ROLLUP_COLUMNS, rollups)
    await transfer.load(cur, "ciudad_rollup_hist_staging", HIST_COLUMNS, histograms)
    await cur.execute(MERGE_ROLLUPS)
    await cur.execute(MERGE_HISTOGRAMS)
    return count


async def rebuild_day(cur: AsyncCursor[Any], transfer: Transfer, series_id: int, day: Any) -> None:
    """The roll-ups of one series over one UTC day, recomputed from its raw rows (after a
    deletion: extremes cannot be subtracted)."""
    bounds = {"s": series_id, "day": day}
    for table in ("ciudad_rollups", "ciudad_rollup_hist"):
        await cur.execute(
            sql.SQL(
                "DELETE FROM {} WHERE series_id = %(s)s AND bucket >= %(day)s "
                "AND bucket < %(day)s + interval '1 day'"
            ).format(sql.Identifier(table)),
            bounds,
        )
    await cur.execute(
        "INSERT INTO ciudad_new_readings (series_id, observed_at, num, energetic) "
        "SELECT s.series_id, o.observed_at, o.num, s.energetic "
        "FROM ciudad_series s JOIN ciudad_observations o USING (tenant, entity_id, attr) "
        "WHERE s.series_id = %(s)s AND o.num IS NOT NULL AND o.observed_at >= %(day)s "
        "AND o.observed_at < %(day)s + interval '1 day'",
        bounds,
    )
    await merge_new_readings(cur, transfer)
