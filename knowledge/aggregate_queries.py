"""Temporal aggregates answered from the roll-ups (raw rows only when no roll-up fits)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from psycopg import AsyncConnection, sql

from knowledge.bulk import Column, Transfer
from knowledge.partials import DB_HISTOGRAM, Partials, empty_partials, rebucket, summarise
from knowledge.rollups import (
    HIST_COLUMNS,
    RESOLUTIONS,
    ROLLUP_COLUMNS,
    SECOND_US,
    Resolution,
)
from knowledge.views import SeriesAggregates, TimeRange

Conn = AsyncConnection[Any]
_RAW_COLUMNS = (
    Column("series_id", "int4"),
    Column("observed_at", "timestamptz"),
    Column("num", "float8"),
    Column("energetic", "bool"),
)


def to_us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * SECOND_US + delta.microseconds


def choose_resolution(period_s: int, window: TimeRange, percentiles: bool) -> Resolution | None:
    """The coarsest roll-up whose windows tile both the period and the query window."""
    for resolution in reversed(RESOLUTIONS):
        if period_s % resolution.seconds or (percentiles and not resolution.histogram):
            continue
        edges = [t for t in (window.start, window.end) if t is not None]
        if all(to_us(t) % resolution.window_us == 0 for t in edges):
            return resolution
    return None


async def _series(
    conn: Conn, tenant: str, attr: str, entity_type: str | None, entity_ids: list[str] | None
) -> list[tuple[int, str, bool]]:
    clauses = ["s.tenant = %s", "s.attr = %s"]
    params: list[Any] = [tenant, attr]
    if entity_type is not None:
        clauses.append("e.entity_type = %s")
        params.append(entity_type)
    if entity_ids is not None:
        clauses.append("s.entity_id = ANY(%s)")
        params.append(entity_ids)
    cur = await conn.execute(
        "SELECT s.series_id, s.entity_id, s.energetic FROM ciudad_series s "
        "JOIN ciudad_entities e ON e.tenant = s.tenant AND e.entity_id = s.entity_id "
        f"WHERE {' AND '.join(clauses)} ORDER BY s.series_id",
        params,
    )
    return [(int(i), str(e), bool(d)) for i, e, d in await cur.fetchall()]


def _time_clause(column: str, window: TimeRange) -> sql.Composable:
    parts: list[sql.Composable] = []
    if window.start is not None:
        parts.append(sql.SQL(" AND {} >= {}").format(sql.Identifier(column), window.start))
    if window.end is not None:
        parts.append(sql.SQL(" AND {} < {}").format(sql.Identifier(column), window.end))
    return sql.Composed(parts)


async def aggregate(
    conn: Conn,
    transfer: Transfer,
    tenant: str,
    attr: str,
    period_s: int,
    window: TimeRange,
    entity_type: str | None = None,
    entity_ids: list[str] | None = None,
    percentiles: bool = False,
) -> SeriesAggregates:
    """Partials of ``attr`` per entity and period; series codes index ``entity_ids``."""
    series = await _series(conn, tenant, attr, entity_type, entity_ids)
    ids = np.array([s[0] for s in series], np.int64)
    resolution = choose_resolution(period_s, window, percentiles)
    async with conn.cursor() as cur:
        if not series:
            partials = empty_partials()
        elif resolution is None:
            partials = await _from_raw(cur, transfer, ids, period_s, window)
        else:
            partials = await _from_rollups(cur, transfer, ids, resolution, window, percentiles)
            if period_s != resolution.seconds:
                partials = rebucket(partials, period_s * SECOND_US)
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
    transfer: Transfer,
    ids: np.ndarray[Any, Any],
    resolution: Resolution,
    window: TimeRange,
    percentiles: bool,
) -> Partials:
    where = sql.SQL("series_id = ANY({}) AND resolution_s = {}{}").format(
        ids.tolist(), resolution.seconds, _time_clause("bucket", window)
    )
    names = sql.SQL(", ").join(sql.Identifier(c.name) for c in ROLLUP_COLUMNS)
    rows = await transfer.dump(
        cur,
        sql.SQL("SELECT {} FROM ciudad_rollups WHERE {} ORDER BY series_id, bucket").format(
            names, where
        ),
        ROLLUP_COLUMNS,
    )
    codes = np.searchsorted(ids, rows["series_id"])
    hist_row = hist_bin = hist_count = np.empty(0, np.int64)
    if percentiles:
        hist_names = sql.SQL(", ").join(sql.Identifier(c.name) for c in HIST_COLUMNS)
        hist = await transfer.dump(
            cur,
            sql.SQL(
                "SELECT {} FROM ciudad_rollup_hist WHERE {} ORDER BY series_id, bucket, bin"
            ).format(hist_names, where),
            HIST_COLUMNS,
        )
        # Rows are sorted by (series, bucket): locate each histogram entry's row.
        row_keys = codes * (1 << 40) + rows["bucket"] // resolution.window_us
        hist_keys = (
            np.searchsorted(ids, hist["series_id"]) * (1 << 40)
            + hist["bucket"] // resolution.window_us
        )
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


async def _from_raw(
    cur: Any, transfer: Transfer, ids: np.ndarray[Any, Any], period_s: int, window: TimeRange
) -> Partials:
    raw = await transfer.dump(
        cur,
        sql.SQL(
            "SELECT s.series_id, o.observed_at, o.num, s.energetic FROM ciudad_observations o "
            "JOIN ciudad_series s USING (tenant, entity_id, attr) "
            "WHERE s.series_id = ANY({}) AND o.num IS NOT NULL{}"
        ).format(ids.tolist(), _time_clause("observed_at", window)),
        _RAW_COLUMNS,
    )
    codes = np.searchsorted(ids, raw["series_id"]).astype(np.int64)
    return summarise(
        codes, raw["observed_at"], raw["num"], period_s * SECOND_US, raw["energetic"], DB_HISTOGRAM
    )
