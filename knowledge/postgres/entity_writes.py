"""Entity lifecycle writes of the API (NGSI-LD create/delete, attribute deletion, merge of
static attributes); devices' readings go through ``PostgresStore.write_batch``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from acquisition import EntityRecord
from knowledge.postgres import instance_history
from knowledge.postgres.change_feed import (
    ATTRIBUTE_CREATED,
    ATTRIBUTE_DELETED,
    ATTRIBUTE_UPDATED,
    ENTITY_CREATED,
    ENTITY_DELETED,
    record_change,
)
from support import AlreadyExistsError, NotFoundError
from support.times import iso_utc

Conn = AsyncConnection[Any]


async def insert_new_entity(conn: Conn, entity: EntityRecord) -> None:
    """Inside the caller's transaction; AlreadyExistsError if the id is taken."""
    cur = await conn.execute(
        "INSERT INTO ciudad_entities (tenant, entity_id, entity_type, static, other_types) "
        "VALUES (%s, %s, %s, %s::jsonb, %s) ON CONFLICT DO NOTHING RETURNING 1",
        (entity.tenant, entity.entity_id, entity.entity_type, json.dumps(dict(entity.static)),
         list(entity.other_types)),
    )  # fmt: skip
    if await cur.fetchone() is None:
        raise AlreadyExistsError(f"entity {entity.entity_id} already exists")
    created = dict.fromkeys((k for k in entity.static if k != "scope"), ATTRIBUTE_CREATED)
    await record_change(
        conn, entity.tenant, entity.entity_id, entity.entity_type, created, ENTITY_CREATED,
        other_types=entity.other_types,
    )  # fmt: skip


async def delete_entity(conn: Conn, tenant: str, entity_id: str) -> None:
    """The entity, its current state, history and roll-ups. The change records every
    attribute as deleted, with what it was, and the entity's system times."""
    async with conn.transaction():
        cur = await conn.execute(
            "DELETE FROM ciudad_entities WHERE tenant = %s AND entity_id = %s "
            "RETURNING entity_type, static, created_at, modified_at, other_types",
            (tenant, entity_id),
        )
        if (row := await cur.fetchone()) is None:
            raise NotFoundError(f"entity {entity_id} not found")
        entity_type, static, created_at, modified_at, other_types = row
        readings = await conn.execute(
            "DELETE FROM ciudad_attr_state WHERE tenant = %s AND entity_id = %s "
            f"RETURNING attr, {_READING_BEFORE}",
            (tenant, entity_id),
        )
        previous = {k: v for k, v in static.items() if k != "scope"}
        previous |= {attr: _reading_before(*rest) for attr, *rest in await readings.fetchall()}
        await record_change(
            conn, tenant, entity_id, entity_type, dict.fromkeys(previous, ATTRIBUTE_DELETED),
            ENTITY_DELETED, {k: _kind(v) for k, v in previous.items()}, previous,
            (created_at, modified_at), other_types,
        )  # fmt: skip
        await _delete_history(conn, tenant, entity_id, None)


# A deleted reading as the change feed keeps it: as an attribute, with its system times.
_READING_BEFORE = "coalesce(to_jsonb(num), to_jsonb(txt)), created_at, modified_at"


def _reading_before(value: Any, created_at: datetime, modified_at: datetime) -> dict[str, Any]:
    return {"type": "Property", "value": value, "createdAt": iso_utc(created_at),
            "modifiedAt": iso_utc(modified_at)}  # fmt: skip


def _kind(attribute: Any) -> str:
    """An attribute's NGSI-LD type as stored: kept whole (its instances') or a reading."""
    first = attribute[0] if isinstance(attribute, list) and attribute else attribute
    found = first.get("type") if isinstance(first, dict) else None
    return found if isinstance(found, str) else "Property"


async def _delete_history(conn: Conn, tenant: str, entity_id: str, attr: str | None) -> None:
    """Every history of an entity (of one attribute if given)."""
    await instance_history.delete(conn, tenant, entity_id, attr)
    await _delete_readings_history(conn, tenant, entity_id, attr)


async def delete_instance_history(
    conn: Conn, tenant: str, entity_id: str, attr: str, dataset_id: str | None
) -> int:
    """The history of one instance of an attribute: the default one's readings (roll-ups
    with them) and kept instances, or those of ``dataset_id``. Returns the rows that went."""
    async with conn.transaction():
        gone = await instance_history.delete_dataset(conn, tenant, entity_id, attr, dataset_id)
        if dataset_id is None:
            gone += await _delete_readings_history(conn, tenant, entity_id, attr)
        return gone


async def _delete_readings_history(
    conn: Conn, tenant: str, entity_id: str, attr: str | None
) -> int:
    """Observations, roll-ups and series of an entity (of one attribute if given)."""
    attr_clause = "" if attr is None else " AND attr = %s"
    params = (tenant, entity_id) if attr is None else (tenant, entity_id, attr)
    observations = await conn.execute(
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
    return observations.rowcount


async def delete_attribute(
    conn: Conn, tenant: str, entity_id: str, attr: str, with_history: bool = False
) -> None:
    """Removes the attribute from the current state; its history too if ``with_history``
    (the temporal API's attribute deletion), otherwise the history stays queryable."""
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT static ? %s, entity_type, "
            "coalesce(static -> %s ->> 'type', static -> %s -> 0 ->> 'type', 'Property'), "
            "static -> %s, other_types FROM ciudad_entities WHERE tenant = %s AND entity_id = %s "
            "FOR UPDATE",
            (attr, attr, attr, attr, tenant, entity_id),
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
            "DELETE FROM ciudad_attr_state WHERE tenant = %s AND entity_id = %s AND attr = %s "
            f"RETURNING {_READING_BEFORE}",
            (tenant, entity_id, attr),
        )
        reading = await state.fetchone()
        if reading is None and not was_static:
            raise NotFoundError(f"attribute {attr} not found in {entity_id}")
        await record_change(
            conn, tenant, entity_id, row[1], {attr: ATTRIBUTE_DELETED}, types={attr: row[2]},
            previous={attr: row[3] if was_static else reading and _reading_before(*reading)},
            other_types=row[4],
        )  # fmt: skip
        if with_history:
            await _delete_history(conn, tenant, entity_id, attr)


async def merge_static(
    conn: Conn,
    tenant: str,
    entity_id: str,
    static: Mapping[str, Any],
    reading_names: frozenset[str] = frozenset(),
    other_types: tuple[str, ...] | None = None,
    instances_deleted: frozenset[str] = frozenset(),
) -> None:
    """Static attributes merged in; an attribute lives in one place, so a name now static
    leaves the current state and a name now read (``reading_names``) leaves the static.
    ``other_types`` replaces the entity's types beside the first, if given;
    ``instances_deleted``: attributes written with fewer instances, some deleted."""
    names = sorted(name for name in static if name != "scope")
    # what the attributes written were: kept whole, or a reading (a name is in one place)
    before = await conn.execute(
        "SELECT entity_type, other_types, "
        "(SELECT jsonb_object_agg(key, value) FROM jsonb_each(e.static) "
        "WHERE key = ANY(%(n)s)), (SELECT jsonb_object_agg(attr, coalesce(to_jsonb(num), "
        "to_jsonb(txt))) FROM ciudad_attr_state s WHERE s.tenant = e.tenant "
        "AND s.entity_id = e.entity_id AND attr = ANY(%(n)s)) "
        "FROM ciudad_entities e WHERE tenant = %(t)s AND entity_id = %(e)s FOR UPDATE",
        {"n": names, "t": tenant, "e": entity_id},
    )
    if (found := await before.fetchone()) is None:
        raise NotFoundError(f"entity {entity_id} not found")
    entity_type, types_before, static_before, readings_before = found
    previous = (readings_before or {}) | (static_before or {})
    events = {name: ATTRIBUTE_DELETED if name in instances_deleted
              else ATTRIBUTE_UPDATED if name in previous else ATTRIBUTE_CREATED
              for name in names}  # fmt: skip
    types = types_before if other_types is None else other_types
    await record_change(
        conn, tenant, entity_id, entity_type, events, previous=previous, other_types=types
    )
    cur = await conn.execute(
        "UPDATE ciudad_entities SET static = (static - %s::text[]) || %s::jsonb, "
        "other_types = coalesce(%s, other_types), modified_at = now() "
        "WHERE tenant = %s AND entity_id = %s RETURNING 1",
        (sorted(reading_names), json.dumps(dict(static)),
         None if other_types is None else list(other_types), tenant, entity_id),
    )  # fmt: skip
    if await cur.fetchone() is None:
        raise NotFoundError(f"entity {entity_id} not found")
    await drop_state_of(conn, tenant, entity_id, static)


async def drop_state_of(conn: Conn, tenant: str, entity_id: str, names: Iterable[str]) -> None:
    """The current state of attributes now kept whole (their history stays): an attribute
    with a reading instance and others (datasetId) is current as a whole, in the static."""
    if names := sorted(names):
        await conn.execute(
            "DELETE FROM ciudad_attr_state WHERE tenant = %s AND entity_id = %s AND attr = ANY(%s)",
            (tenant, entity_id, names),
        )


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
