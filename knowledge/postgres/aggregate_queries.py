"""Temporal aggregates answered from the roll-ups (raw rows only when no roll-up fits)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

import numpy as np
from psycopg import AsyncConnection, sql

from knowledge.aggregate.partials import (
    DB_HISTOGRAM,
    Partials,
    concat_disjoint,
    empty_partials,
    rebucket,
    summarise,
)
from knowledge.postgres.bulk import Column, fetch_columns
from knowledge.postgres.rollups import (
    HIST_COLUMNS,
    READ_COLUMNS,
    RESOLUTIONS,
    SECOND_US,
    Resolution,
)
from knowledge.query.records import SeriesAggregates, TimeRange
from support.times import to_epoch_us

Conn = AsyncConnection[Any]
Origin = datetime | Literal["first"] | None
_RAW_COLUMNS = (
    Column("series_id", "int4"),
    Column("observed_at", "timestamptz"),
    Column("num", "float8"),
    Column("energetic", "bool"),
)


def choose_resolution(
    period_s: int, window: TimeRange, percentiles: bool, offset_us: int = 0
) -> Resolution | None:
    """The coarsest roll-up whose windows tile the period (shifted by ``offset_us`` from
    the epoch) and the query window."""
    for resolution in reversed(RESOLUTIONS):
        if period_s % resolution.seconds or (percentiles and not resolution.histogram):
            continue
        if offset_us % resolution.window_us:
            continue
        edges = [t for t in (window.start, window.end) if t is not None]
        if all(to_epoch_us(t) % resolution.window_us == 0 for t in edges):
            return resolution
    return None


async def _series(
    conn: Conn, tenant: str, attr: str, entity_type: str | None, entity_ids: list[str] | None
) -> list[tuple[int, str, bool]]:
    """(series id, entity id, energetic) of the attribute's series, by series id.

    Two plain queries rather than a join: without statistics on young tables the
    planner's join choice was a nested loop 10x slower than both queries together.
    """
    params: list[Any] = [tenant, attr]
    id_clause = ""
    if entity_ids is not None:
        id_clause = " AND entity_id = ANY(%s)"
        params.append(entity_ids)
    cur = await conn.execute(
        "SELECT series_id, entity_id, energetic FROM ciudad_series "
        f"WHERE tenant = %s AND attr = %s{id_clause} ORDER BY series_id",
        params,
    )
    rows = [(int(i), str(e), bool(d)) for i, e, d in await cur.fetchall()]
    if entity_type is None:
        return rows
    cur = await conn.execute(
        "SELECT entity_id FROM ciudad_entities WHERE tenant = %s AND entity_type = %s",
        (tenant, entity_type),
    )
    of_type = {str(e) for (e,) in await cur.fetchall()}
    return [row for row in rows if row[1] in of_type]


def _time_clause(column: str, window: TimeRange) -> sql.Composable:
    parts: list[sql.Composable] = []
    if window.start is not None:
        parts.append(sql.SQL(" AND {} >= {}").format(sql.Identifier(column), window.start))
    if window.end is not None:
        parts.append(sql.SQL(" AND {} < {}").format(sql.Identifier(column), window.end))
    return sql.Composed(parts)


Connect = Callable[[], AbstractAsyncContextManager[Conn]]
# Reading 96k roll-up rows is bound by the server's CPU: spread big reads over connections.
_SERIES_PER_READ = 250


async def aggregate(
    connect: Connect,
    parallel: int,
    tenant: str,
    attr: str,
    period_s: int,
    window: TimeRange,
    entity_type: str | None = None,
    entity_ids: list[str] | None = None,
    percentiles: bool = False,
    origin: Origin = None,
) -> SeriesAggregates:
    """Partials of ``attr`` per entity and period; series codes index ``entity_ids``.
    Periods start at the epoch, at ``origin``, or (``"first"``) at the first observation.

    ``connect`` opens a pooled connection; up to ``parallel`` read concurrently.
    """
    async with connect() as conn:
        series = await _series(conn, tenant, attr, entity_type, entity_ids)
        ids = np.array([s[0] for s in series], np.int64)
        if origin == "first":
            origin = await _first_observation(conn, ids) if series else None
    offset_us = 0 if not isinstance(origin, datetime) else (
        to_epoch_us(origin) % (period_s * SECOND_US)
    )  # fmt: skip
    resolution = choose_resolution(period_s, window, percentiles, offset_us)
    if not series:
        partials = empty_partials()
    elif resolution is None:
        async with connect() as conn, conn.cursor() as cur:
            partials = await _from_raw(cur, ids, period_s, window, offset_us)
    else:
        parts = max(1, min(parallel, len(ids) // _SERIES_PER_READ))
        bounds = np.linspace(0, len(ids), parts + 1).astype(int)

        async def read(lo: int, hi: int) -> Partials:
            async with connect() as conn, conn.cursor() as cur:
                return await _from_rollups(cur, ids[lo:hi], lo, resolution, window, percentiles)

        chunks = await asyncio.gather(
            *(read(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds))
        )
        partials = concat_disjoint(list(chunks))
        if period_s != resolution.seconds:
            unshifted = rebucket(shifted(partials, -offset_us), period_s * SECOND_US)
            partials = shifted(unshifted, offset_us)
    return SeriesAggregates(
        attr=attr,
        period_s=period_s,
        entity_ids=tuple(s[1] for s in series),
        energetic=tuple(s[2] for s in series),
        partials=partials,
        resolution_s=resolution.seconds if resolution else None,
    )


async def _from_rollups(
    cur: Any,
    ids: np.ndarray[Any, Any],
    first_code: int,
    resolution: Resolution,
    window: TimeRange,
    percentiles: bool,
) -> Partials:
    where = sql.SQL("series_id = ANY({}) AND resolution_s = {}{}").format(
        ids.tolist(), resolution.seconds, _time_clause("bucket", window)
    )
    rows = await fetch_columns(
        cur,
        sql.SQL("FROM ciudad_rollups WHERE {} ORDER BY series_id, bucket").format(where),
        READ_COLUMNS,
        packed_column="packed",
    )
    codes = np.searchsorted(ids, rows["series_id"]) + first_code
    hist_row = hist_bin = hist_count = np.empty(0, np.int64)
    if percentiles:
        hist = await fetch_columns(
            cur,
            sql.SQL("FROM ciudad_rollup_hist WHERE {} ORDER BY series_id, bucket, bin").format(
                where
            ),
            HIST_COLUMNS,
        )
        # Rows are sorted by (series, bucket): locate each histogram entry's row.
        row_keys = codes * (1 << 40) + rows["bucket"] // resolution.window_us
        hist_keys = (np.searchsorted(ids, hist["series_id"]) + first_code) * (1 << 40) + hist[
            "bucket"
        ] // resolution.window_us
        hist_row = np.searchsorted(row_keys, hist_keys)
        hist_bin, hist_count = hist["bin"].astype(np.int64), hist["n"]
    return Partials(
        series=codes.astype(np.int64),
        bucket=rows["bucket"],
        count=rows["n"],
        total=rows["total"],
        total_sq=rows["total_sq"],
        minimum=rows["vmin"],
        maximum=rows["vmax"],
        first_at=rows["first_at"],
        first=rows["first_v"],
        last_at=rows["last_at"],
        last=rows["last_v"],
        energy=rows["energy"],
        hist_row=hist_row.astype(np.int64),
        hist_bin=hist_bin,
        hist_count=hist_count,
    )


def shifted(p: Partials, by_us: int) -> Partials:
    """Partials with every time moved by ``by_us``: periods that start off the epoch are
    computed as epoch-aligned ones of shifted times, then moved back."""
    if not by_us:
        return p
    return replace(p, bucket=p.bucket + by_us, first_at=p.first_at + by_us,
                   last_at=p.last_at + by_us)  # fmt: skip


async def _first_observation(conn: Conn, ids: np.ndarray[Any, Any]) -> datetime | None:
    """From the coarsest roll-up: one row per series and day instead of every reading."""
    cur = await conn.execute(
        "SELECT min(first_at) FROM ciudad_rollups WHERE series_id = ANY(%s) AND resolution_s = %s",
        (ids.tolist(), RESOLUTIONS[-1].seconds),
    )
    row = await cur.fetchone()
    return row[0] if row else None


async def _from_raw(
    cur: Any, ids: np.ndarray[Any, Any], period_s: int, window: TimeRange, offset_us: int = 0
) -> Partials:
    raw = await fetch_columns(
        cur,
        sql.SQL(
            "FROM (SELECT s.series_id, o.observed_at, o.num, s.energetic "
            "FROM ciudad_observations o JOIN ciudad_series s USING (tenant, entity_id, attr) "
            "WHERE s.series_id = ANY({}) AND o.num IS NOT NULL{}) AS raw"
        ).format(ids.tolist(), _time_clause("observed_at", window)),
        _RAW_COLUMNS,
    )
    codes = np.searchsorted(ids, raw["series_id"]).astype(np.int64)
    times = raw["observed_at"] - offset_us
    period_us = period_s * SECOND_US
    partials = summarise(codes, times, raw["num"], period_us, raw["energetic"], DB_HISTOGRAM)
    return shifted(partials, offset_us)
