"""The API's entity writes and the kept instances' history, as part of PostgresStore: a
new entity, attributes appended or replaced, deletions of entities, attributes, instances
and histories. Each in one transaction on the store's connections."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from psycopg import AsyncConnection

from acquisition import EntityRecord, Reading
from knowledge.postgres import entity_writes, instance_edits, instance_history
from knowledge.postgres.bulk import Transfer
from knowledge.query.records import KeptInstance, TimeRange

Kept = tuple[KeptInstance, ...]


class _Store(Protocol):
    """What the methods below need of the store they are mixed into."""

    _transfer: Transfer

    def connection(self) -> AbstractAsyncContextManager[AsyncConnection[Any]]: ...

    async def _ensure_partitions(
        self, conn: AsyncConnection[Any], readings: tuple[Reading, ...]
    ) -> None: ...

    async def _merge_readings(
        self, conn: AsyncConnection[Any], readings: tuple[Reading, ...]
    ) -> int: ...


class EntityLifecycle:
    """Mixed into PostgresStore, which provides the connection and the readings' path."""

    async def create_entity(
        self: _Store, entity: EntityRecord, readings: tuple[Reading, ...], kept: Kept = ()
    ) -> None:
        """A new entity with its first attribute values (``kept``: the history of those that
        are no reading); AlreadyExistsError if the id exists."""
        async with self.connection() as conn:
            await self._ensure_partitions(conn, readings)
            async with conn.transaction():
                await entity_writes.insert_new_entity(conn, entity)
                await instance_history.record(conn, entity.tenant, entity.entity_id, kept)
                if readings:
                    await self._merge_readings(conn, readings)
                    await entity_writes.drop_state_of(
                        conn, entity.tenant, entity.entity_id, entity.static
                    )

    async def append_attributes(
        self: _Store,
        tenant: str,
        entity_id: str,
        static: Mapping[str, Any],
        readings: tuple[Reading, ...],
        replace: bool = False,
        other_types: tuple[str, ...] | None = None,
        kept: Kept = (),
    ) -> None:
        """Adds or overwrites attributes of an existing entity (NotFoundError otherwise);
        ``replace`` first removes every current attribute; ``other_types`` (if given) are
        the entity's types beside its first."""
        async with self.connection() as conn:
            await self._ensure_partitions(conn, readings)
            async with conn.transaction():
                if replace:
                    await entity_writes.clear_attributes(conn, tenant, entity_id)
                if readings:  # first: the static below may keep some of them whole
                    await self._merge_readings(conn, readings)
                names = frozenset(r.attr for r in readings)
                # records of deletions: what the write removes are instances (datasetId)
                gone = frozenset(k.attr for k in kept if k.deleted)
                await entity_writes.merge_static(
                    conn, tenant, entity_id, static, names, other_types, gone
                )
                await instance_history.record(conn, tenant, entity_id, kept)

    async def delete_entity(self: _Store, tenant: str, entity_id: str) -> None:
        async with self.connection() as conn:
            await entity_writes.delete_entity(conn, tenant, entity_id)

    async def delete_instance(
        self: _Store, tenant: str, entity_id: str, attr: str, observed_at: datetime
    ) -> None:
        """One observation of an attribute (NotFoundError if there is none at that time)."""
        async with self.connection() as conn:
            await instance_edits.delete_instance(
                conn, self._transfer, tenant, entity_id, attr, observed_at
            )

    async def modify_instance(
        self: _Store,
        tenant: str,
        entity_id: str,
        attr: str,
        observed_at: datetime,
        fragment: Mapping[str, Any],
    ) -> None:
        """The instance at that time changed in place (NotFoundError if there is none)."""
        async with self.connection() as conn:
            await instance_edits.modify_instance(
                conn, self._transfer, tenant, entity_id, attr, observed_at, fragment
            )

    async def delete_attribute(
        self: _Store, tenant: str, entity_id: str, attr: str, with_history: bool = False,
        deleted: Kept = (),
    ) -> None:  # fmt: skip
        """``deleted``: the records of the deletion, kept in the history with it."""
        async with self.connection() as conn, conn.transaction():
            await entity_writes.delete_attribute(conn, tenant, entity_id, attr, with_history)
            await instance_history.record(conn, tenant, entity_id, deleted)

    async def delete_instance_history(
        self: _Store, tenant: str, entity_id: str, attr: str, dataset_id: str | None
    ) -> int:
        async with self.connection() as conn:
            return await entity_writes.delete_instance_history(
                conn, tenant, entity_id, attr, dataset_id
            )

    async def instance_history(
        self: _Store, tenant: str, entity_id: str, attrs: list[str] | None, window: TimeRange,
        last_n: int | None = None, first_n: int | None = None, deleted: bool = False,
    ) -> list[KeptInstance]:  # fmt: skip
        async with self.connection() as conn:
            return await instance_history.read(
                conn, tenant, entity_id, attrs, window, last_n, first_n, deleted
            )
