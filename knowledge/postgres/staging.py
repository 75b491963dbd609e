"""A batch's readings into the session's staging tables, in the shapes the merges need.

``ciudad_staging`` gets the readings that have a history (everything but DateTime
values, which are kept in the current state only); ``ciudad_staging_latest`` gets, per
attribute, only the latest reading, which is all the state merge keeps. Choosing it here
is a dictionary look-up per reading; in SQL it was a sort of the whole batch by text keys
(``DISTINCT ON``), a third of a 50-measure batch's commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg import AsyncCursor

from acquisition import Reading
from knowledge.postgres.bulk import Transfer

_COLUMNS = ("tenant", "entity_id", "attr", "observed_at", "num", "txt", "value_type",
            "unit_code", "stated")  # fmt: skip
_TYPES = ("text", "text", "text", "timestamptz", "float8", "text", "text", "text", "bool")
STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS ciudad_staging (
    tenant text, entity_id text, attr text, observed_at timestamptz,
    num double precision, txt text, value_type text, unit_code text, stated boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ciudad_staging_latest (LIKE ciudad_staging)
    ON COMMIT DELETE ROWS
"""


def history_row(r: Reading) -> tuple[Any, ...]:
    """(tenant, entity_id, attr, observed_at, num, txt): a reading as the history keeps it."""
    number = r.value if isinstance(r.value, float) else None
    text = r.value if isinstance(r.value, str) else None
    return (r.tenant, r.entity_id, r.attr, r.observed_at, number, text)


def _row(r: Reading) -> tuple[Any, ...]:
    return (*history_row(r), r.value_type.value, r.unit_code, r.time_stated)


async def stage(
    cur: AsyncCursor[Any], transfer: Transfer, table: str, readings: Iterable[Reading]
) -> None:
    """Readings into ``ciudad_staging`` or ``ciudad_staging_latest``."""
    await transfer.load_rows(cur, table, _COLUMNS, map(_row, readings), _TYPES)
