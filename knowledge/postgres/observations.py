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
from typing import Any

import numpy as np
import psycopg
from psycopg import AsyncCursor

from knowledge.postgres.bulk import Transfer
from knowledge.postgres.copy_rows import SIGNATURE, TRAILER
from knowledge.postgres.rollups import merge_partials
from knowledge.postgres.staged import SeriesKey, StagedBatch

_COPY = (
    "COPY ciudad_observations (tenant, entity_id, attr, observed_at, num, txt) "
    "FROM STDIN (FORMAT BINARY)"
)
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


async def copy_new_observations(
    cur: AsyncCursor[Any], transfer: Transfer, staged: StagedBatch
) -> int | None:
    """Writes the staged history if none of it is stored yet and merges its roll-ups;
    returns how many numeric readings it added, or None (nothing written) when any was
    stored."""
    await cur.execute("SAVEPOINT ciudad_direct_copy")
    try:
        async with cur.copy(_COPY) as copy:
            await copy.write(SIGNATURE)
            await copy.write(staged.history_rows)
            await copy.write(TRAILER)
    except psycopg.errors.UniqueViolation:
        await cur.execute("ROLLBACK TO SAVEPOINT ciudad_direct_copy")
        return None
    await cur.execute("RELEASE SAVEPOINT ciudad_direct_copy")
    if staged.numeric_keys:
        series = await _series_ids(cur, staged.decibels)
        ids = [series[key] for key in staged.numeric_keys]
        new = {
            "series_id": np.array([sid for sid, _ in ids], dtype=np.int64),
            "observed_at": staged.numeric_us,
            "num": staged.numeric_values,
            "energetic": np.array([energetic for _, energetic in ids], dtype=np.bool_),
        }
        await merge_partials(cur, transfer, new)
    return len(staged.numeric_keys)


async def _series_ids(
    cur: AsyncCursor[Any], decibels: dict[SeriesKey, bool]
) -> dict[SeriesKey, tuple[int, bool]]:
    """Per series of the batch its id and whether it averages energetically (an existing
    series keeps the kind it was made with)."""
    document = json.dumps(
        [
            {"tenant": t, "entity_id": e, "attr": a, "energetic": energetic}
            for (t, e, a), energetic in decibels.items()
        ]
    )
    await cur.execute(_SERIES, (document,))
    return {(t, e, a): (sid, energetic) for sid, t, e, a, energetic in await cur.fetchall()}
