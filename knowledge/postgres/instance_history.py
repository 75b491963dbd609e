"""The history of attributes kept whole (``ciudad_attr_instances``): written beside the
entity's static attributes, read by the temporal API, removed with the entity or, by the
temporal API, with the attribute. A ``deleted`` row records an attribute's deletion (soft
deletion, NGSI-LD 1.8): its time is the deletedAt, and it is read only when asked for."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from knowledge.query.records import KeptInstance, TimeRange

Conn = AsyncConnection[Any]
_NO_DATASET = ""  # the default instance (a primary key column cannot be NULL)


async def record(conn: Conn, tenant: str, entity_id: str, kept: Sequence[KeptInstance]) -> None:
    """Inside the caller's transaction; a second write at the same time replaces the first."""
    if not kept:
        return
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO ciudad_attr_instances (tenant, entity_id, attr, observed_at, "
            "dataset_id, instance, deleted) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s) "
            "ON CONFLICT (tenant, entity_id, attr, observed_at, dataset_id, deleted) "
            "DO UPDATE SET instance = excluded.instance",
            [(tenant, entity_id, k.attr, k.observed_at, k.dataset_id or _NO_DATASET,
              json.dumps(dict(k.instance)), k.deleted) for k in kept],
        )  # fmt: skip


async def read(
    conn: Conn,
    tenant: str,
    entity_id: str,
    attrs: list[str] | None,
    window: TimeRange,
    last_n: int | None,
    first_n: int | None = None,
    deleted: bool = False,
) -> list[KeptInstance]:
    """Oldest first per attribute; the last ``last_n`` of each attribute if given, else
    the first ``first_n`` if given. ``deleted``: the records of deletions instead."""
    order = "DESC" if last_n is not None else "ASC"
    cur = await conn.execute(
        "SELECT attr, observed_at, dataset_id, instance FROM ("
        f"  SELECT *, row_number() OVER (PARTITION BY attr ORDER BY observed_at {order}) AS age"
        "  FROM ciudad_attr_instances WHERE tenant = %(t)s AND entity_id = %(e)s"
        "  AND deleted = %(deleted)s AND (%(attrs)s::text[] IS NULL OR attr = ANY(%(attrs)s))"
        "  AND (%(start)s::timestamptz IS NULL OR observed_at >= %(start)s)"
        "  AND (%(end)s::timestamptz IS NULL OR observed_at < %(end)s)"
        ") AS i WHERE %(n)s::int IS NULL OR age <= %(n)s ORDER BY attr, observed_at",
        {"t": tenant, "e": entity_id, "attrs": attrs, "start": window.start,
         "end": window.end, "n": last_n if last_n is not None else first_n,
         "deleted": deleted},
    )  # fmt: skip
    return [
        KeptInstance(str(attr), at, dataset or None, instance, deleted)
        for attr, at, dataset, instance in await cur.fetchall()
    ]


async def delete_dataset(
    conn: Conn, tenant: str, entity_id: str, attr: str, dataset_id: str | None
) -> int:
    """The kept instances of one datasetId of an attribute (None: the default one)."""
    cur = await conn.execute(
        "DELETE FROM ciudad_attr_instances WHERE tenant = %s AND entity_id = %s AND attr = %s "
        "AND dataset_id = %s",
        (tenant, entity_id, attr, dataset_id or _NO_DATASET),
    )
    return cur.rowcount


async def delete(
    conn: Conn, tenant: str, entity_id: str, attr: str | None, at: datetime | None = None
) -> int:
    """Every kept instance of the entity, of one attribute, or of one attribute at ``at``."""
    cur = await conn.execute(
        "DELETE FROM ciudad_attr_instances WHERE tenant = %s AND entity_id = %s "
        "AND (%s::text IS NULL OR attr = %s) AND (%s::timestamptz IS NULL OR observed_at = %s)",
        (tenant, entity_id, attr, attr, at, at),
    )
    return cur.rowcount
