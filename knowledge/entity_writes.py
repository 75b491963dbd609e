"""Entity lifecycle writes of the API (NGSI-LD create/delete, attribute deletion, merge of
static attributes); devices' readings go through ``PostgresStore.write_batch``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from psycopg import AsyncConnection

from support import AlreadyExistsError, NotFoundError

Conn = AsyncConnection[Any]


async def insert_new_entity(
    conn: Conn, tenant: str, entity_id: str, entity_type: str, static: Mapping[str, Any]
) -> None:
    """Inside the caller's transaction; AlreadyExistsError if the id is taken."""
    cur = await conn.execute(
        "INSERT INTO ciudad_entities (tenant, entity_id, entity_type, static) "
        "VALUES (%s, %s, %s, %s::jsonb) ON CONFLICT DO NOTHING RETURNING 1",
        (tenant, entity_id, entity_type, json.dumps(dict(static))),
    )
    if await cur.fetchone() is None:
        raise AlreadyExistsError(f"entity {entity_id} already exists")


async def delete_entity(conn: Conn, tenant: str, entity_id: str) -> None:
    """The entity, its current state, history and roll-ups."""
    async with conn.transaction():
        cur = await conn.execute(
            "DELETE FROM ciudad_entities WHERE tenant = %s AND entity_id = %s RETURNING 1",
            (tenant, entity_id),
        )
        if await cur.fetchone() is None:
            raise NotFoundError(f"entity {entity_id} not found")
        await conn.execute(
            "DELETE FROM ciudad_attr_state WHERE tenant = %s AND entity_id = %s",
            (tenant, entity_id),
        )
        await _delete_history(conn, tenant, entity_id, None)


async def _delete_history(conn: Conn, tenant: str, entity_id: str, attr: str | None) -> None:
    """Observations, roll-ups and series of an entity (of one attribute if given)."""
    attr_clause = "" if attr is None else " AND attr = %s"
    params = (tenant, entity_id) if attr is None else (tenant, entity_id, attr)
    await conn.execute(
        "DELETE FROM ciudad_observations WHERE tenant = %s AND entity_id = %s" + attr_clause,
        params,
    )
    for table in ("ciudad_rollups", "ciudad_rollup_hist"):
        await conn.execute(
            f"DELETE FROM {table} WHERE series_id IN (SELECT series_id FROM ciudad_series "
            "WHERE tenant = %s AND entity_id = %s" + attr_clause + ")",
            params,
        )
    await conn.execute(
        "DELETE FROM ciudad_series WHERE tenant = %s AND entity_id = %s" + attr_clause, params
    )


async def delete_attribute(
    conn: Conn, tenant: str, entity_id: str, attr: str, with_history: bool = False
) -> None:
    """Removes the attribute from the current state; its history too if ``with_history``
    (the temporal API's attribute deletion), otherwise the history stays queryable."""
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT static ? %s FROM ciudad_entities WHERE tenant = %s AND entity_id = %s "
            "FOR UPDATE",
            (attr, tenant, entity_id),
        )
        row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"entity {entity_id} not found")
        was_static = bool(row[0])
        await conn.execute(
            "UPDATE ciudad_entities SET static = static - %s, modified_at = now() "
            "WHERE tenant = %s AND entity_id = %s",
            (attr, tenant, entity_id),
        )
        state = await conn.execute(
            "DELETE FROM ciudad_attr_state WHERE tenant = %s AND entity_id = %s AND attr = %s",
            (tenant, entity_id, attr),
        )
        if state.rowcount == 0 and not was_static:
            raise NotFoundError(f"attribute {attr} not found in {entity_id}")
        if with_history:
            await _delete_history(conn, tenant, entity_id, attr)


async def merge_static(conn: Conn, tenant: str, entity_id: str, static: Mapping[str, Any]) -> None:
    cur = await conn.execute(
        "UPDATE ciudad_entities SET static = static || %s::jsonb, modified_at = now() "
        "WHERE tenant = %s AND entity_id = %s RETURNING 1",
        (json.dumps(dict(static)), tenant, entity_id),
    )
    if await cur.fetchone() is None:
        raise NotFoundError(f"entity {entity_id} not found")


async def clear_attributes(conn: Conn, tenant: str, entity_id: str) -> None:
    """Every attribute off the current state (history stays), ahead of a replace."""
    cur = await conn.execute(
        "UPDATE ciudad_entities SET static = '{}'::jsonb, modified_at = now() "
        "WHERE tenant = %s AND entity_id = %s RETURNING 1",
        (tenant, entity_id),
    )
    if await cur.fetchone() is None:
        raise NotFoundError(f"entity {entity_id} not found")
    await conn.execute(
        "DELETE FROM ciudad_attr_state WHERE tenant = %s AND entity_id = %s", (tenant, entity_id)
    )
