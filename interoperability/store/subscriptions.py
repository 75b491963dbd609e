"""Subscriptions and their notification queue in PostgreSQL.

The queue is the promise that nothing is lost: a notification row is written
in the transaction that consumes the changes behind it and deleted only once
its endpoint acknowledged it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from interoperability.subscriptions.model import Subscription, SubscriptionBody, load_subscription
from knowledge import ANY_TYPE, set_watches
from support import AlreadyExistsError, NotFoundError
from support.store import Connection, Database

_STATUS_COLUMNS = (
    "times_sent, dropped, last_notification, last_success, last_failure, "
    "last_failure_reason, last_periodic, created_at, modified_at"
)


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    times_sent: int
    dropped: int
    last_notification: datetime | None
    last_success: datetime | None
    last_failure: datetime | None
    last_failure_reason: str | None
    last_periodic: datetime | None
    created_at: datetime
    modified_at: datetime
    pending: int = 0


@dataclass(frozen=True, slots=True)
class StoredSubscription:
    subscription: Subscription
    status: DeliveryStatus


@dataclass(frozen=True, slots=True)
class PendingNotification:
    id: int
    tenant: str
    subscription_id: str
    data: list[dict[str, Any]]
    attempts: int


def _stored(tenant: str, sub_id: str, body: Any, status: Sequence[Any]) -> StoredSubscription:
    subscription = load_subscription(tenant, sub_id, SubscriptionBody.model_validate(body))
    return StoredSubscription(subscription, DeliveryStatus(*status))


class SubscriptionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection in a transaction, for the notification queue's work and the
        change feed's (knowledge.take_changes) to commit together."""
        async with self._db.connection() as conn, conn.transaction():
            yield conn

    def connection(self) -> AbstractAsyncContextManager[Connection]:
        return self._db.connection()

    async def queued_notifications(self) -> int:
        """Notifications waiting to be sent, every subscription's."""
        async with self._db.connection() as conn:
            row = await (await conn.execute("SELECT count(*) FROM ciudad_notifications")).fetchone()
        return int(row[0]) if row else 0

    async def create(self, subscription: Subscription) -> None:
        body = subscription.body.model_dump(mode="json", by_alias=True, exclude_none=True)
        async with self._db.connection() as conn:
            try:
                await conn.execute(
                    "INSERT INTO ciudad_subscriptions (tenant, id, body) VALUES (%s, %s, %s)",
                    (subscription.tenant, subscription.id, Jsonb(body)),
                )
            except psycopg.errors.UniqueViolation:
                raise AlreadyExistsError(f"subscription {subscription.id} exists") from None
            await self._update_watches(conn, subscription.tenant)

    async def replace(self, subscription: Subscription) -> None:
        body = subscription.body.model_dump(mode="json", by_alias=True, exclude_none=True)
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "UPDATE ciudad_subscriptions SET body = %s, modified_at = now() "
                "WHERE tenant = %s AND id = %s",
                (Jsonb(body), subscription.tenant, subscription.id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no subscription {subscription.id}")
            await self._update_watches(conn, subscription.tenant)

    async def delete(self, tenant: str, sub_id: str) -> None:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "DELETE FROM ciudad_subscriptions WHERE tenant = %s AND id = %s", (tenant, sub_id)
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no subscription {sub_id}")
            await self._update_watches(conn, tenant)

    async def get(self, tenant: str, sub_id: str) -> StoredSubscription:
        found = await self._select("WHERE s.tenant = %s AND s.id = %s", (tenant, sub_id))
        if not found:
            raise NotFoundError(f"no subscription {sub_id}")
        return found[0]

    async def of_tenant(self, tenant: str, limit: int, offset: int) -> list[StoredSubscription]:
        """In the order they were created (pages stay stable as subscriptions come)."""
        return await self._select(
            "WHERE s.tenant = %s ORDER BY s.created_at, s.id LIMIT %s OFFSET %s",
            (tenant, limit, offset),
        )

    async def count(self, tenant: str) -> int:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM ciudad_subscriptions WHERE tenant = %s", (tenant,)
            )
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def everyone(self) -> list[StoredSubscription]:
        """Every tenant's subscriptions (for the notifier, several times a second: without
        counting their queues, which only the API's answers show)."""
        return await self._select("", (), count_pending=False)

    async def _select(
        self, where: str, params: Sequence[Any], count_pending: bool = True
    ) -> list[StoredSubscription]:
        pending = (
            "(SELECT count(*) FROM ciudad_notifications n WHERE n.tenant = s.tenant "
            "AND n.subscription_id = s.id)"
            if count_pending
            else "0"
        )
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"SELECT s.tenant, s.id, s.body, {_STATUS_COLUMNS}, {pending} "
                f"FROM ciudad_subscriptions s {where}",
                params,
            )
            return [_stored(row[0], row[1], row[2], row[3:]) for row in await cur.fetchall()]

    async def _update_watches(self, conn: AsyncConnection[Any], tenant: str) -> None:
        """The change feed records exactly the types this tenant's subscriptions watch."""
        cur = await conn.execute(
            "SELECT body FROM ciudad_subscriptions WHERE tenant = %s", (tenant,)
        )
        types: set[str] = set()
        for (body,) in await cur.fetchall():
            if body.get("timeInterval"):
                continue  # periodic: reads the state, not the feed
            selectors = body.get("entities")
            for expression in [ANY_TYPE] if not selectors else [e["type"] for e in selectors]:
                # a type expression (Building|Tower) watches each type it names
                types.update(t for t in re.split(r"[(),|;\s]+", expression) if t)
        await set_watches(conn, tenant, types)
