"""One instance of an attribute's history, deleted or changed in place (the temporal API,
NGSI-LD 5.6.16 and 5.6.17): a reading (its day's roll-ups rebuilt from the raw rows, the
current state following) or a kept instance."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from knowledge.postgres import instance_history, rollups
from knowledge.postgres.bulk import Transfer
from support import NotFoundError

Conn = AsyncConnection[Any]

_RESTORE_STATE = """
WITH gone AS (
    DELETE FROM ciudad_attr_state
    WHERE tenant = %(t)s AND entity_id = %(e)s AND attr = %(a)s AND observed_at = %(at)s
    RETURNING value_type, unit_code
)
INSERT INTO ciudad_attr_state (tenant, entity_id, attr, observed_at, num, txt, value_type,
                               unit_code)
SELECT o.tenant, o.entity_id, o.attr, o.observed_at, o.num, o.txt, g.value_type, g.unit_code
FROM gone g, LATERAL (
    SELECT * FROM ciudad_observations
    WHERE tenant = %(t)s AND entity_id = %(e)s AND attr = %(a)s
    ORDER BY observed_at DESC LIMIT 1
) o
"""


async def delete_instance(
    conn: Conn, transfer: Transfer, tenant: str, entity_id: str, attr: str, at: datetime
) -> None:
    """One observation; its day's roll-ups are rebuilt and, if it was the attribute's
    current value, the previous observation becomes current."""
    key = {"t": tenant, "e": entity_id, "a": attr, "at": at}
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute(
            "DELETE FROM ciudad_observations WHERE tenant = %(t)s AND entity_id = %(e)s "
            "AND attr = %(a)s AND observed_at = %(at)s RETURNING num",
            key,
        )
        if await cur.fetchone() is None:
            if not await instance_history.delete(conn, tenant, entity_id, attr, at):
                raise NotFoundError(f"no instance of {attr} at {at.isoformat()} in {entity_id}")
            return
        await cur.execute(_RESTORE_STATE, key)
        await cur.execute(
            "SELECT series_id, date_trunc('day', %(at)s::timestamptz, 'UTC') FROM ciudad_series "
            "WHERE tenant = %(t)s AND entity_id = %(e)s AND attr = %(a)s",
            key,
        )
        await _rebuild_day(cur, transfer, key)


async def _rebuild_day(cur: Any, transfer: Transfer, key: Mapping[str, Any]) -> None:
    await cur.execute(
        "SELECT series_id, date_trunc('day', %(at)s::timestamptz, 'UTC') FROM ciudad_series "
        "WHERE tenant = %(t)s AND entity_id = %(e)s AND attr = %(a)s",
        key,
    )
    series = await cur.fetchone()
    if series is not None:
        await rollups.rebuild_day(cur, transfer, series[0], series[1])


async def modify_instance(
    conn: Conn,
    transfer: Transfer,
    tenant: str,
    entity_id: str,
    attr: str,
    at: datetime,
    fragment: Mapping[str, Any],
) -> None:
    """The instance at ``at`` takes the fragment's value (a reading) or members (a kept
    instance); NotFoundError if there is none."""
    key: dict[str, Any] = {"t": tenant, "e": entity_id, "a": attr, "at": at}
    value = fragment.get("value")
    async with conn.transaction(), conn.cursor() as cur:
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            key |= {"num": None if isinstance(value, str) else float(value),
                    "txt": value if isinstance(value, str) else None}  # fmt: skip
            await cur.execute(_SET_OBSERVATION, key)
            if await cur.fetchone() is not None:
                await cur.execute(_SET_STATE, key)
                await _rebuild_day(cur, transfer, key)
                return
        await cur.execute(
            "UPDATE ciudad_attr_instances SET instance = instance || %(doc)s::jsonb "
            "WHERE tenant = %(t)s AND entity_id = %(e)s AND attr = %(a)s "
            "AND observed_at = %(at)s RETURNING 1",
            key | {"doc": json.dumps(dict(fragment))},
        )
        if await cur.fetchone() is None:
            raise NotFoundError(f"no instance of {attr} at {at.isoformat()} in {entity_id}")


_SET_OBSERVATION = (
    "UPDATE ciudad_observations SET num = %(num)s, txt = %(txt)s WHERE tenant = %(t)s "
    "AND entity_id = %(e)s AND attr = %(a)s AND observed_at = %(at)s RETURNING 1"
)
_SET_STATE = (
    "UPDATE ciudad_attr_state SET num = %(num)s, txt = %(txt)s WHERE tenant = %(t)s "
    "AND entity_id = %(e)s AND attr = %(a)s AND observed_at = %(at)s"
)
