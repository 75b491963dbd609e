"""The change feed: attribute values that became an entity's current state, in commit order.

Every batch that moves an attribute's current state forward also writes one
row per changed entity to ``ciudad_changes``, in the same transaction, when
someone watches that tenant and entity type (``ciudad_change_watch``; the
subscriptions keep it up to date). A replayed or late reading does not move
the state, so it adds nothing. A consumer takes rows with ``take_changes``
inside its own transaction, together with whatever it derives from them:
deleting visible rows under READ COMMITTED never skips a row that commits
later, which a sequence-number cursor could.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

ANY_TYPE = "*"
# What happened (NGSI-LD 5.2.12 notificationTrigger): to the entity, or to one attribute.
ENTITY_CREATED, ENTITY_DELETED = "entityCreated", "entityDeleted"
ATTRIBUTE_CREATED, ATTRIBUTE_UPDATED = "attributeCreated", "attributeUpdated"
ATTRIBUTE_DELETED = "attributeDeleted"

# The state merge, recording what it changed. ``ciudad_staging_latest`` holds the batch's
# latest reading of each attribute (knowledge.postgres.staging).
MERGE_STATE_RECORDING_CHANGES = f"""
WITH changed AS (
    INSERT INTO ciudad_attr_state AS s
        (tenant, entity_id, attr, observed_at, num, txt, value_type, unit_code,
         observed_at_stated)
    SELECT tenant, entity_id, attr, observed_at, num, txt, value_type, unit_code,
        coalesce(stated, true)
    FROM ciudad_staging_latest
    ON CONFLICT (tenant, entity_id, attr) DO UPDATE SET
        observed_at = excluded.observed_at, num = excluded.num, txt = excluded.txt,
        value_type = excluded.value_type, unit_code = excluded.unit_code,
        observed_at_stated = excluded.observed_at_stated, prev_num = s.num, prev_txt = s.txt,
        modified_at = now()
    WHERE excluded.observed_at > s.observed_at
    RETURNING tenant, entity_id, attr, observed_at, num, txt, value_type, unit_code,
              observed_at_stated, prev_num, prev_txt, created_at, modified_at,
              xmax = 0 AS inserted
)
INSERT INTO ciudad_changes (tenant, entity_id, entity_type, other_types, attrs)
SELECT c.tenant, c.entity_id, e.entity_type, e.other_types,
    jsonb_object_agg(c.attr, jsonb_build_object(
    'value', coalesce(to_jsonb(c.num), to_jsonb(c.txt)), 'observedAt', c.observed_at,
    'unitCode', c.unit_code, 'valueType', c.value_type, 'stated', c.observed_at_stated,
    'previous', coalesce(to_jsonb(c.prev_num), to_jsonb(c.prev_txt)),
    'createdAt', c.created_at, 'modifiedAt', c.modified_at,
    'event', CASE WHEN c.inserted THEN '{ATTRIBUTE_CREATED}' ELSE '{ATTRIBUTE_UPDATED}' END))
FROM changed c JOIN ciudad_entities e USING (tenant, entity_id)
WHERE EXISTS (SELECT 1 FROM ciudad_change_watch w WHERE w.tenant = c.tenant
              AND w.entity_type = ANY(array['{ANY_TYPE}', e.entity_type] || e.other_types))
GROUP BY c.tenant, c.entity_id, e.entity_type, e.other_types
"""


@dataclass(frozen=True, slots=True)
class ChangedValue:
    """A reading's new value, or (``value`` None) an attribute kept whole that changed or
    went: the entity's current state says what it is now."""

    value: float | str | None
    observed_at: datetime | None
    unit_code: str | None
    value_type: str | None
    event: str = ATTRIBUTE_UPDATED
    attribute_type: str | None = None  # of an attribute deleted: what it was
    stated: bool = True  # False: the reading's observedAt was not given, so is not shown
    # What the change replaced, read in its transaction: a reading's value, or an attribute
    # kept whole as stored (an object, or a list of instances); None if it was not there.
    previous: Any = None
    created_at: datetime | None = None  # a reading's system times (NGSI-LD 4.8)
    modified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """The attributes of one entity that one transaction moved forward."""

    seq: int
    tenant: str
    entity_id: str
    entity_type: str
    attrs: Mapping[str, ChangedValue]
    changed_at: datetime
    event: str | None = None  # ENTITY_CREATED or ENTITY_DELETED; None: attributes changed
    created_at: datetime | None = None  # of an entity deleted: its system times
    modified_at: datetime | None = None
    other_types: tuple[str, ...] = ()  # beside entity_type (NGSI-LD 4.16)

    @property
    def types(self) -> tuple[str, ...]:
        return (self.entity_type, *self.other_types)


def _time(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None


def _values(attrs: Mapping[str, Any]) -> dict[str, ChangedValue]:
    return {
        name: ChangedValue(
            v.get("value"),
            datetime.fromisoformat(v["observedAt"]) if v.get("observedAt") else None,
            v.get("unitCode"),
            v.get("valueType"),
            v.get("event", ATTRIBUTE_UPDATED),
            v.get("type"),
            v.get("stated", True) is not False,
            v.get("previous"),
            _time(v.get("createdAt")),
            _time(v.get("modifiedAt")),
        )
        for name, v in attrs.items()
    }


async def take_changes(conn: AsyncConnection[Any], limit: int) -> list[Change]:
    """Removes and returns the oldest committed changes (at most ``limit``), in order.

    Run it in the transaction that stores what the changes lead to: a rollback
    puts them back.
    """
    cur = await conn.execute(
        "DELETE FROM ciudad_changes WHERE seq IN (SELECT seq FROM ciudad_changes ORDER BY seq "
        "LIMIT %s FOR UPDATE SKIP LOCKED) "
        "RETURNING seq, tenant, entity_id, entity_type, attrs, changed_at, event, "
        "entity_created_at, entity_modified_at, other_types",
        (limit,),
    )
    rows = sorted(await cur.fetchall(), key=lambda row: row[0])
    return [
        Change(seq, tenant, entity_id, entity_type, _values(attrs), changed_at, event,
               created_at, modified_at, tuple(others))
        for seq, tenant, entity_id, entity_type, attrs, changed_at, event, created_at,
        modified_at, others in rows
    ]  # fmt: skip


async def record_change(
    conn: AsyncConnection[Any],
    tenant: str,
    entity_id: str,
    entity_type: str,
    attr_events: Mapping[str, str],
    event: str | None = None,
    types: Mapping[str, str] | None = None,
    previous: Mapping[str, Any] | None = None,
    times: tuple[datetime, datetime] | None = None,
    other_types: Sequence[str] = (),
) -> None:
    """A change of the API's writes (entity created or deleted, attributes kept whole that
    were created, updated or deleted), in the caller's transaction, if someone watches
    one of the entity's types. ``previous``: per attribute, what the change replaced
    (``ChangedValue.previous``); ``times``: a deleted entity's (createdAt, modifiedAt)."""
    if not attr_events and event is None:
        return
    attrs = {
        name: {"event": e, "type": (types or {}).get(name), "previous": (previous or {}).get(name)}
        for name, e in attr_events.items()
    }
    await conn.execute(
        "INSERT INTO ciudad_changes (tenant, entity_id, entity_type, other_types, attrs, "
        "event, entity_created_at, entity_modified_at) "
        "SELECT %(t)s, %(e)s, %(type)s, %(others)s, %(attrs)s::jsonb, %(event)s, %(c)s, %(m)s "
        "WHERE EXISTS (SELECT 1 FROM ciudad_change_watch w WHERE w.tenant = %(t)s "
        "AND w.entity_type = ANY(%(watched)s))",
        {"t": tenant, "e": entity_id, "type": entity_type, "others": list(other_types),
         "watched": [ANY_TYPE, entity_type, *other_types], "event": event,
         "attrs": json.dumps(attrs), "c": times[0] if times else None,
         "m": times[1] if times else None},
    )  # fmt: skip


async def set_watches(conn: AsyncConnection[Any], tenant: str, entity_types: Iterable[str]) -> None:
    """Record changes of exactly these types of ``tenant`` from now on (ANY_TYPE: all)."""
    async with conn.transaction():
        await conn.execute("DELETE FROM ciudad_change_watch WHERE tenant = %s", (tenant,))
        types = sorted(set(entity_types))
        if types:
            await conn.execute(
                "INSERT INTO ciudad_change_watch (tenant, entity_type) "
                "SELECT %s, unnest(%s::text[])",
                (tenant, types),
            )
