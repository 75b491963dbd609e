"""The history's fast path: a batch's readings straight into ``ciudad_observations``.

Almost every batch is new data, so it is written with one binary COPY into the table
itself, and its roll-ups are computed from the rows in hand: no staging pass, no
``ON CONFLICT`` probe per row, no ``RETURNING`` read back. A batch holding anything
already stored (a redelivery after a crash, a replayed spool, two messages of one
device with one time) fails that COPY on the primary key; it is then rolled back to a
savepoint and stored by the staged path, which keeps the first value and counts only
what is new, so replays still change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg import AsyncCursor

from acquisition import Reading
from knowledge.postgres.bulk import Transfer
from knowledge.postgres.rollups import DECIBEL_UNIT, merge_partials
from knowledge.postgres.staging import history_row

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_COPY = (
    "COPY ciudad_observations (tenant, entity_id, attr, observed_at, num, txt) "
    "FROM STDIN (FORMAT BINARY)"
)
_TYPES = ["text", "text", "text", "timestamptz", "float8", "text"]
# The series of the batch's numeric attributes, made where missing; an existing series
# keeps the kind it was made with, as the staged path's ENSURE_SERIES does.
_SERIES = """
WITH wanted AS (
    SELECT * FROM jsonb_to_recordset(%s::jsonb) AS w(tenant text, entity_id text,
                                                    attr text, energetic boolean)
), made AS (
    INSERT INTO ciudad_series (tenant, entity_id, attr, energetic)
    SELECT tenant, entity_id, attr, energetic FROM wanted
    ON CONFLICT DO NOTHING
    RETURNING series_id, tenant, entity_id, attr, energetic
)
SELECT series_id, tenant, entity_id, attr, energetic FROM made
UNION ALL
SELECT s.series_id, s.tenant, s.entity_id, s.attr, s.energetic
FROM ciudad_series s JOIN wanted USING (tenant, entity_id, attr)
"""

SeriesKey = tuple[str, str, str]


async def copy_new_observations(
    cur: AsyncCursor[Any], transfer: Transfer, history: Sequence[Reading]
) -> int | None:
    """Writes ``history`` if none of it is stored yet and merges its roll-ups; returns how
    many numeric readings it added, or None (nothing written) when any was stored."""
    await cur.execute("SAVEPOINT ciudad_direct_copy")
    try:
        async with cur.copy(_COPY) as copy:
            copy.set_types(_TYPES)
            for r in history:
                await copy.write_row(history_row(r))
    except psycopg.errors.UniqueViolation:
        await cur.execute("ROLLBACK TO SAVEPOINT ciudad_direct_copy")
        return None
    await cur.execute("RELEASE SAVEPOINT ciudad_direct_copy")
    numeric = [r for r in history if isinstance(r.value, float)]
    if numeric:
        series = await _series_ids(cur, numeric)
        await merge_partials(cur, transfer, _new_readings(numeric, series))
    return len(numeric)


async def _series_ids(
    cur: AsyncCursor[Any], numeric: Sequence[Reading]
) -> dict[SeriesKey, tuple[int, bool]]:
    wanted = {(r.tenant, r.entity_id, r.attr): r.unit_code == DECIBEL_UNIT for r in numeric}
    document = json.dumps(
        [
            {"tenant": t, "entity_id": e, "attr": a, "energetic": energetic}
            for (t, e, a), energetic in wanted.items()
        ]
    )
    await cur.execute(_SERIES, (document,))
    return {(t, e, a): (sid, energetic) for sid, t, e, a, energetic in await cur.fetchall()}


def _new_readings(
    numeric: Sequence[Reading], series: dict[SeriesKey, tuple[int, bool]]
) -> dict[str, np.ndarray[Any, Any]]:
    """The columns the roll-ups are made of, as the staged path reads them back."""
    ids = [series[(r.tenant, r.entity_id, r.attr)] for r in numeric]
    return {
        "series_id": np.array([sid for sid, _ in ids], dtype=np.int64),
        "observed_at": np.array(
            [(r.observed_at - _EPOCH) // _MICROSECOND for r in numeric], dtype=np.int64
        ),
        "num": np.array([r.value for r in numeric], dtype=np.float64),
        "energetic": np.array([energetic for _, energetic in ids], dtype=np.bool_),
    }
