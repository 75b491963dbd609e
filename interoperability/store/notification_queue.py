"""The notification queue's SQL: enqueue with the changes, take what is due, settle."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from interoperability.store.subscriptions import PendingNotification

log = logging.getLogger(__name__)


async def enqueue(
    conn: AsyncConnection[Any],
    tenant: str,
    subscription_id: str,
    data: list[dict[str, Any]],
    due_at: datetime,
    max_pending: int,
) -> None:
    """Queues one notification; beyond ``max_pending`` the oldest go, and are counted."""
    await conn.execute(
        "INSERT INTO ciudad_notifications (tenant, subscription_id, data, due_at) "
        "VALUES (%s, %s, %s, %s)",
        (tenant, subscription_id, Jsonb(data), due_at),
    )
    cur = await conn.execute(
        "WITH surplus AS (DELETE FROM ciudad_notifications WHERE id IN ("
        " SELECT id FROM ciudad_notifications WHERE tenant = %(t)s AND subscription_id = %(s)s"
        " ORDER BY id DESC OFFSET %(max)s) RETURNING 1) "
        "UPDATE ciudad_subscriptions SET dropped = dropped + (SELECT count(*) FROM surplus) "
        "WHERE tenant = %(t)s AND id = %(s)s AND (SELECT count(*) FROM surplus) > 0 "
        "RETURNING dropped",
        {"t": tenant, "s": subscription_id, "max": max_pending},
    )
    if (row := await cur.fetchone()) is not None:
        log.warning(
            "notification queue full: oldest dropped",
            extra={"tenant": tenant, "subscription": subscription_id, "dropped": row[0]},
        )


async def due(conn: AsyncConnection[Any], now: datetime, limit: int) -> list[PendingNotification]:
    cur = await conn.execute(
        "SELECT id, tenant, subscription_id, data, attempts FROM ciudad_notifications "
        "WHERE due_at <= %s ORDER BY id LIMIT %s",
        (now, limit),
    )
    return [PendingNotification(*row) for row in await cur.fetchall()]


async def attempting(conn: AsyncConnection[Any], first: PendingNotification, now: datetime) -> None:
    """Counts an attempt before it is made: whoever the notification reaches and asks
    at once sees it counted (timesSent, lastNotification)."""
    await conn.execute(
        "UPDATE ciudad_subscriptions SET times_sent = times_sent + 1, last_notification = %s "
        "WHERE tenant = %s AND id = %s",
        (now, first.tenant, first.subscription_id),
    )


async def delivered(
    conn: AsyncConnection[Any],
    sent: list[PendingNotification],
    now: datetime,
    throttling_s: float,
) -> None:
    """Removes the sent rows; a throttled subscription's later rows wait their turn."""
    first = sent[0]
    await conn.execute(
        "DELETE FROM ciudad_notifications WHERE id = ANY(%s)", ([n.id for n in sent],)
    )
    await conn.execute(
        "UPDATE ciudad_subscriptions SET last_success = %s WHERE tenant = %s AND id = %s",
        (now, first.tenant, first.subscription_id),
    )
    if throttling_s > 0:
        await conn.execute(
            "UPDATE ciudad_notifications SET due_at = greatest(due_at, %s) "
            "WHERE tenant = %s AND subscription_id = %s",
            (now + timedelta(seconds=throttling_s), first.tenant, first.subscription_id),
        )


async def failed(
    conn: AsyncConnection[Any],
    attempted: list[PendingNotification],
    now: datetime,
    retry_at: datetime,
    reason: str,
) -> None:
    """Counts the attempt; the subscription's whole queue waits until ``retry_at`` (order)."""
    first = attempted[0]
    await conn.execute(
        "UPDATE ciudad_notifications SET attempts = attempts + 1, last_error = %s "
        "WHERE id = ANY(%s)",
        (reason[:500], [n.id for n in attempted]),
    )
    await conn.execute(
        "UPDATE ciudad_notifications SET due_at = greatest(due_at, %s) "
        "WHERE tenant = %s AND subscription_id = %s",
        (retry_at, first.tenant, first.subscription_id),
    )
    await conn.execute(
        "UPDATE ciudad_subscriptions SET last_failure = %s, last_failure_reason = %s "
        "WHERE tenant = %s AND id = %s",
        (now, reason[:500], first.tenant, first.subscription_id),
    )


async def mark_periodic(
    conn: AsyncConnection[Any], tenant: str, sub_id: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE ciudad_subscriptions SET last_periodic = %s WHERE tenant = %s AND id = %s",
        (now, tenant, sub_id),
    )


async def next_due(
    conn: AsyncConnection[Any], tenant: str, sub_id: str, throttling: float | None, now: datetime
) -> datetime:
    """When a new notification may leave: after those queued before it (order), and
    ``throttling`` seconds after the last one sent."""
    cur = await conn.execute(
        "SELECT s.last_notification, (SELECT max(due_at) FROM ciudad_notifications n "
        "WHERE n.tenant = s.tenant AND n.subscription_id = s.id) "
        "FROM ciudad_subscriptions s WHERE s.tenant = %s AND s.id = %s",
        (tenant, sub_id),
    )
    row = await cur.fetchone()
    last_sent, queued_until = row if row else (None, None)
    due = max(now, queued_until or now)
    if throttling and last_sent is not None:
        due = max(due, last_sent + timedelta(seconds=throttling))
    return due
