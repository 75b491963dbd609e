"""Read queries of the PostgreSQL store; each takes a connection and returns view records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from psycopg import AsyncConnection, sql
from psycopg.rows import tuple_row

from acquisition import DeadLetter
from knowledge.postgres.filter_sql import Bound, query_sql
from knowledge.postgres.order_sql import order_sql
from knowledge.query.filters import EntityQuery
from knowledge.query.geo import entity_geometry, matches
from knowledge.query.records import (
    AttributeHistory,
    AttributeState,
    AttributeUse,
    EntityState,
    ExportRow,
    NumericSeries,
    TimeRange,
)
from support import NotFoundError

Conn = AsyncConnection[Any]
_ENTITY_COLUMNS = "SELECT entity_id, entity_type, static, modified_at, created_at, other_types "


def _time_filter(window: TimeRange, params: list[Any]) -> str:
    clauses = []
    if window.start is not None:
        clauses.append("observed_at >= %s")
        params.append(window.start)
    if window.end is not None:
        clauses.append("observed_at < %s")
        params.append(window.end)
    return "".join(f" AND {c}" for c in clauses)


async def _states(conn: Conn, tenant: str, rows: list[tuple[Any, ...]]) -> list[EntityState]:
    """Joins entity rows (id, type, static, modified) with their latest attribute values."""
    ids = [row[0] for row in rows]
    cur = await conn.execute(
        "SELECT entity_id, attr, num, txt, value_type, observed_at, unit_code, "
        "observed_at_stated, created_at, modified_at FROM ciudad_attr_state "
        "WHERE tenant = %s AND entity_id = ANY(%s) ORDER BY attr",
        (tenant, ids),
    )
    attrs: dict[str, list[AttributeState]] = defaultdict(list)
    for entity_id, attr, num, txt, *rest in await cur.fetchall():
        value = num if num is not None else txt
        attrs[entity_id].append(AttributeState(attr, value, *rest))
    return [
        EntityState(
            entity_id,
            entity_type,
            static,
            tuple(attrs[entity_id]),
            _last_modified(modified, attrs[entity_id]),
            created,
            tuple(more),
        )
        for entity_id, entity_type, static, modified, created, more in rows
    ]


def _last_modified(row_modified: datetime, attrs: list[AttributeState]) -> datetime:
    """The entity row's time or its latest reading's, whichever is later (the gateway writes
    a device's entity row only when its static attributes change)."""
    times = [a.modified_at for a in attrs if a.modified_at is not None]
    return max([row_modified, *times])


def _entity_where(entity_type: str | None, query: EntityQuery | None, p: Bound) -> sql.Composable:
    merged = query or EntityQuery()
    if entity_type is not None:
        merged = replace(merged, types=(*(merged.types or ()), entity_type))
    return query_sql(merged, p)


async def _matching_rows(
    conn: Conn, tenant: str, entity_type: str | None, query: EntityQuery | None
) -> list[tuple[Any, ...]]:
    """Every entity row the query selects, geo filter included (applied here, in Python)."""
    p = Bound()
    p(tenant)
    where = _entity_where(entity_type, query, p)
    cur = await conn.execute(
        sql.SQL(_ENTITY_COLUMNS + "FROM ciudad_entities e WHERE tenant = %s{}{}").format(
            where, order_sql(query.order if query else (), p)
        ),
        p.values,
    )
    rows = await cur.fetchall()
    geo = query.geo if query else None
    if geo is None:
        return rows
    return [
        row
        for row in rows
        if (shape := entity_geometry(row[2], geo.geoproperty)) is not None and matches(shape, geo)
    ]


async def list_entities(
    conn: Conn,
    tenant: str,
    entity_type: str | None,
    limit: int,
    offset: int,
    query: EntityQuery | None = None,
) -> list[EntityState]:
    if query is not None and query.geo is not None:
        rows = (await _matching_rows(conn, tenant, entity_type, query))[offset : offset + limit]
        return await _states(conn, tenant, rows)
    p = Bound()
    p(tenant)
    where = _entity_where(entity_type, query, p)
    # sorted in SQL, before LIMIT and OFFSET: pages follow the order asked for
    order = order_sql(query.order if query else (), p)
    cur = await conn.execute(
        sql.SQL(
            _ENTITY_COLUMNS + "FROM ciudad_entities e WHERE tenant = %s{}{} LIMIT %s OFFSET %s"
        ).format(where, order),
        [*p.values, limit, offset],
    )
    return await _states(conn, tenant, await cur.fetchall())


async def count_entities(
    conn: Conn, tenant: str, entity_type: str | None, query: EntityQuery | None = None
) -> int:
    if query is not None and query.geo is not None:
        return len(await _matching_rows(conn, tenant, entity_type, query))
    p = Bound()
    p(tenant)
    cur = await conn.execute(
        sql.SQL("SELECT count(*) FROM ciudad_entities e WHERE tenant = %s{}").format(
            _entity_where(entity_type, query, p)
        ),
        p.values,
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def entity_types(conn: Conn, tenant: str) -> dict[str, int]:
    cur = await conn.execute(
        "SELECT t, count(*) FROM ciudad_entities, "
        "unnest(array[entity_type] || other_types) AS t WHERE tenant = %s GROUP BY t ORDER BY t",
        (tenant,),
    )
    return {str(name): int(count) for name, count in await cur.fetchall()}


# Readings are Properties; a static attribute says its type (the first instance's, for a
# list of instances); scope is no attribute.
_ATTRIBUTE_USES = """
SELECT t, s.attr, 'Property', count(*)
FROM ciudad_entities e JOIN ciudad_attr_state s USING (tenant, entity_id),
     unnest(array[e.entity_type] || e.other_types) AS t
WHERE e.tenant = %(t)s GROUP BY 1, 2
UNION ALL
SELECT t, a.key,
       coalesce(a.value ->> 'type', a.value -> 0 ->> 'type', 'Property'), count(*)
FROM ciudad_entities e CROSS JOIN LATERAL jsonb_each(e.static) AS a,
     unnest(array[e.entity_type] || e.other_types) AS t
WHERE e.tenant = %(t)s AND a.key <> 'scope' GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""


async def attribute_uses(conn: Conn, tenant: str) -> list[AttributeUse]:
    cur = await conn.execute(_ATTRIBUTE_USES, {"t": tenant})
    return [AttributeUse(str(t), str(a), str(k), int(n)) for t, a, k, n in await cur.fetchall()]


async def get_entity(conn: Conn, tenant: str, entity_id: str) -> EntityState:
    cur = await conn.execute(
        _ENTITY_COLUMNS + "FROM ciudad_entities WHERE tenant = %s AND entity_id = %s",
        (tenant, entity_id),
    )
    rows = await cur.fetchall()
    if not rows:
        raise NotFoundError(f"entity {entity_id} not found")
    return (await _states(conn, tenant, rows))[0]


async def history(
    conn: Conn,
    tenant: str,
    entity_id: str,
    attrs: list[str] | None,
    window: TimeRange,
    last_n: int | None,
    first_n: int | None = None,
) -> list[AttributeHistory]:
    """Per attribute, values in the window, oldest first: the last ``last_n`` if given,
    else the first ``first_n`` if given."""
    await get_entity(conn, tenant, entity_id)  # 404 for unknown entities, not an empty list
    params: list[Any] = [tenant, entity_id]
    attr_clause = ""
    if attrs:
        attr_clause = " AND o.attr = ANY(%s)"
        params.append(attrs)
    time_clause = _time_filter(window, params)
    ranked = (
        "SELECT o.attr, o.observed_at, o.num, o.txt, row_number() OVER "
        f"(PARTITION BY o.attr ORDER BY o.observed_at {'ASC' if last_n is None else 'DESC'}) "
        "AS rn "
        "FROM ciudad_observations o "
        f"WHERE o.tenant = %s AND o.entity_id = %s{attr_clause}{time_clause}"
    )
    params += [tenant, entity_id]
    limit_clause = ""
    if last_n is not None or first_n is not None:
        limit_clause = " WHERE rn <= %s"
        params.append(last_n if last_n is not None else first_n)
    cur = await conn.execute(
        f"SELECT r.attr, r.observed_at, r.num, r.txt, s.unit_code FROM ({ranked}) r "
        "LEFT JOIN ciudad_attr_state s ON s.tenant = %s AND s.entity_id = %s "
        f"AND s.attr = r.attr{limit_clause} ORDER BY r.attr, r.observed_at",
        params,
    )
    series: dict[str, tuple[str | None, list[datetime], list[float | str]]] = {}
    for attr, observed_at, num, txt, unit in await cur.fetchall():
        _, times, values = series.setdefault(attr, (unit, [], []))
        times.append(observed_at)
        values.append(num if num is not None else txt)
    return [
        AttributeHistory(attr, unit, tuple(times), tuple(values))
        for attr, (unit, times, values) in series.items()
    ]


async def numeric_series(
    conn: Conn, tenant: str, entity_type: str, attr: str, window: TimeRange
) -> list[NumericSeries]:
    """Numeric values of ``attr`` for every entity of a type, as numpy arrays."""
    params: list[Any] = [tenant, entity_type, attr]
    time_clause = _time_filter(window, params)
    cur = conn.cursor(row_factory=tuple_row)
    await cur.execute(
        "SELECT o.entity_id, o.observed_at, o.num FROM ciudad_observations o "
        "JOIN ciudad_entities e ON e.tenant = o.tenant AND e.entity_id = o.entity_id "
        f"WHERE o.tenant = %s AND e.entity_type = %s AND o.attr = %s AND o.num IS NOT NULL"
        f"{time_clause.replace('observed_at', 'o.observed_at')} "
        "ORDER BY o.entity_id, o.observed_at",
        params,
    )
    grouped: dict[str, tuple[list[datetime], list[float]]] = defaultdict(lambda: ([], []))
    for entity_id, observed_at, num in await cur.fetchall():
        times, values = grouped[entity_id]
        times.append(observed_at)
        values.append(num)
    return [
        NumericSeries(
            entity_id,
            np.array(
                [t.astimezone(UTC).replace(tzinfo=None) for t in times], dtype="datetime64[us]"
            ),
            np.asarray(values, dtype=np.float64),
        )
        for entity_id, (times, values) in grouped.items()
    ]


async def dead_letters(conn: Conn, tenant: str | None, limit: int) -> list[DeadLetter]:
    """Newest first; ``tenant=None`` also returns letters whose tenant is unknown."""
    where, params = ("WHERE tenant = %s", [tenant]) if tenant is not None else ("", [])
    cur = await conn.execute(
        "SELECT received_at, topic, payload, reason, detail, tenant, device_id "
        f"FROM ciudad_dead_letters {where} ORDER BY id DESC LIMIT %s",
        (*params, limit),
    )
    return [DeadLetter(*row) for row in await cur.fetchall()]


EXPORT_BATCH_ROWS = 5000


async def export_rows(
    conn: Conn, tenant: str, entity_type: str, attrs: list[str] | None, window: TimeRange
) -> AsyncIterator[ExportRow]:
    """Every observation of a type's entities in the window, by entity then time, streamed
    from a server-side cursor (an export of a year must not be held in memory)."""
    params: list[Any] = [tenant, entity_type]
    attr_clause = ""
    if attrs:
        attr_clause = " AND o.attr = ANY(%s)"
        params.append(attrs)
    time_clause = _time_filter(window, params).replace("observed_at", "o.observed_at")
    async with conn.transaction(), conn.cursor(name="ciudad_export") as cur:
        await cur.execute(
            "SELECT o.entity_id, o.observed_at, o.attr, o.num, o.txt, s.unit_code "
            "FROM ciudad_observations o "
            "JOIN ciudad_entities e ON e.tenant = o.tenant AND e.entity_id = o.entity_id "
            "LEFT JOIN ciudad_attr_state s ON s.tenant = o.tenant "
            "AND s.entity_id = o.entity_id AND s.attr = o.attr "
            f"WHERE o.tenant = %s AND e.entity_type = %s{attr_clause}{time_clause} "
            "ORDER BY o.entity_id, o.observed_at, o.attr",
            params,
        )
        while rows := await cur.fetchmany(EXPORT_BATCH_ROWS):
            for entity_id, observed_at, attr, num, txt, unit in rows:
                yield ExportRow(entity_id, observed_at, attr, num if num is not None else txt, unit)


async def distinct_counts(
    conn: Conn,
    tenant: str,
    entity_id: str,
    attr: str,
    period_s: int | None,
    window: TimeRange,
) -> list[tuple[datetime, int]]:
    """Distinct values per period, periods starting at the window's start or the first
    observation in it (one period for the window when None)."""
    params: list[Any] = []
    if period_s is None:
        bucket = "min(observed_at) OVER ()"
    else:
        bucket = (
            "date_bin(make_interval(secs => %s), observed_at, "
            "coalesce(%s::timestamptz, min(observed_at) OVER ()))"
        )
        params += [period_s, window.start]
    params += [tenant, entity_id, attr]
    time_clause = _time_filter(window, params)
    cur = await conn.execute(
        f"SELECT bucket, count(DISTINCT coalesce(num::text, txt)) FROM ("
        f"SELECT {bucket} AS bucket, num, txt FROM ciudad_observations "
        f"WHERE tenant = %s AND entity_id = %s AND attr = %s{time_clause}) AS o "
        "GROUP BY bucket ORDER BY bucket",
        params,
    )
    return [(at, int(n)) for at, n in await cur.fetchall()]
