"""The notifier: change feed -> matching subscriptions -> queue -> endpoints.

One notifier works per database (the API process holding an advisory lock):
it matches each change against the subscriptions in the transaction that
takes the change from the feed and queues the notification, then sends what
is due. A failed send is retried with exponential backoff (capped) for as
long as the subscription exists; a subscription's notifications leave in
order. Delivery is at least once: each notification has an id to spot a
repeat after a crash between sending and recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from interoperability.ngsild import CORE_CONTEXT
from interoperability.store import notification_queue as queue
from interoperability.store.subscriptions import (
    PendingNotification,
    StoredSubscription,
    SubscriptionStore,
)
from interoperability.subscriptions.content import (
    SubscriberTerms,
    entity_document,
    periodic_documents,
)
from interoperability.subscriptions.linking import with_linked
from interoperability.subscriptions.model import Subscription
from interoperability.subscriptions.transport import DeliveryError, NotificationSender
from knowledge import Change, EntityQuery, KnowledgeStore, take_changes
from support import StoreUnavailableError
from support.metrics import PlatformMetrics
from support.runs import runs_of_at_most
from support.store import Connection, Database, try_session_lock
from support.times import iso_utc

log = logging.getLogger(__name__)
LEADER_LOCK = 178108
LOCK_RETRY_S = 2.0  # a follower tries to take the lead this often
LOCK_CHECK_S = 2.0  # a leader checks that its lock's session is alive this often


@dataclass(frozen=True, slots=True)
class NotifierOptions:
    timeout_s: float = 5.0
    max_backoff_s: float = 300.0
    max_pending: int = 10_000
    idle_sleep_s: float = 0.1
    changes_per_round: int = 2000
    sends_per_round: int = 500
    entities_per_notification: int = 500


def backoff_s(attempts: int, cap_s: float) -> float:
    """1 s, 2 s, 4 s ... up to ``cap_s``."""
    return float(min(cap_s, 2.0 ** max(0, attempts - 1)))


class Notifier:
    def __init__(
        self,
        subscriptions: SubscriptionStore,
        store: KnowledgeStore,
        sender: NotificationSender,
        options: NotifierOptions,
        contexts: SubscriberTerms,
        metrics: PlatformMetrics | None = None,
    ) -> None:
        self._subscriptions = subscriptions
        self._store = store
        self._sender = sender
        self._options = options
        self._contexts = contexts
        self._metrics = metrics
        self._leading = False
        # a delivery under way per subscription, set once its outcome is recorded
        self._in_flight: dict[tuple[str, str], asyncio.Event] = {}

    @property
    def leading(self) -> bool:
        return self._leading

    async def settled(self, tenant: str, subscription_id: str, most_s: float) -> None:
        """Waits (at most ``most_s``) for the outcome of this process's delivery to the
        subscription under way, if any, to be recorded. A receiver that reads the
        subscription as soon as it has answered sees what it answered."""
        event = self._in_flight.get((tenant, subscription_id))
        if event is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), most_s)

    async def run(self, db: Database) -> None:
        """Waits to lead (one notifier per database), then works until cancelled. The lock
        lives in its connection's session: when that connection dies, another process may
        take the lock, so this one stops and waits to lead again."""
        while True:
            try:
                async with db.session() as lock_conn:
                    while not await try_session_lock(lock_conn, LEADER_LOCK):  # noqa: ASYNC110 - polls another process
                        await asyncio.sleep(LOCK_RETRY_S)
                    log.info("notifier leading")
                    self._leading = True
                    await self._lead(lock_conn)
            except StoreUnavailableError as exc:
                log.warning("notifier lost its lock connection (%s); waiting to lead again", exc)
            finally:
                self._leading = False
            await asyncio.sleep(LOCK_RETRY_S)

    async def _lead(self, lock_conn: Connection) -> None:
        """Works while the lock's connection answers (checked every LOCK_CHECK_S)."""
        next_check = time.monotonic() + LOCK_CHECK_S
        while True:
            if time.monotonic() >= next_check:
                await lock_conn.execute("SELECT 1")  # raises once the session is gone
                next_check = time.monotonic() + LOCK_CHECK_S
            try:
                busy = await self.work_once(datetime.now(UTC))
            except Exception:
                log.exception("notifier round failed; retrying")
                busy = False
                await asyncio.sleep(1.0)
            if not busy:
                await asyncio.sleep(self._options.idle_sleep_s)

    async def work_once(self, now: datetime) -> bool:
        """One matching round and one sending round; True if there was anything to do."""
        stored = [s for s in await self._subscriptions.everyone() if s.subscription.active_at(now)]
        live = [s.subscription for s in stored]
        matched = await self._match(live, now)
        periodic = await self._periodic(stored, now)
        sent = await self._send_due(live, now)
        return bool(matched or periodic or sent)

    async def _match(self, live: list[Subscription], now: datetime) -> int:
        async with self._subscriptions.transaction() as conn:
            changes = await take_changes(conn, self._options.changes_per_round)
            if not changes:
                return 0
            per_subscription = await self._documents(changes, live)
            subs = {(s.tenant, s.id): s for s in live}
            for key, stored_names in per_subscription.items():
                sub = subs[key]
                joined = await with_linked(self._store, sub, stored_names)
                documents = await self._contexts.compact(sub, joined)
                due_at = await queue.next_due(conn, sub.tenant, sub.id, sub.body.throttling, now)
                await queue.enqueue(
                    conn, sub.tenant, sub.id, documents, due_at, self._options.max_pending
                )
        return len(changes)

    async def _documents(
        self, changes: list[Change], live: list[Subscription]
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        by_tenant: dict[str, list[Subscription]] = defaultdict(list)
        for sub in live:
            by_tenant[sub.tenant].append(sub)
        out: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        for tenant, subs in by_tenant.items():
            mine = [c for c in changes if c.tenant == tenant]
            wanted = [c for c in mine if any(s.selects(c.entity_id, c.types) for s in subs)]
            if not wanted:
                continue
            ids = tuple(sorted({c.entity_id for c in wanted}))
            states = {
                s.entity_id: s
                for s in await self._store.list_entities(
                    tenant, None, len(ids), 0, EntityQuery(ids=ids)
                )
            }
            for change in wanted:
                state = states.get(change.entity_id)
                for sub in subs:
                    if not sub.selects(change.entity_id, change.types):
                        continue
                    document, values = entity_document(change, state, sub)
                    events = {name: v.event for name, v in change.attrs.items()}
                    if sub.is_due(events, values, change.event):
                        # a creation and its readings are two changes of one same state
                        key = json.dumps(document, sort_keys=True, default=str)
                        out[(sub.tenant, sub.id)].setdefault(key, document)
        return {key: list(documents.values()) for key, documents in out.items()}

    async def _periodic(self, stored: list[StoredSubscription], now: datetime) -> int:
        count = 0
        for entry in stored:
            sub, interval = entry.subscription, entry.subscription.body.timeInterval
            if interval is None:
                continue
            last = entry.status.last_periodic
            if last is not None and last + timedelta(seconds=interval) > now:
                continue
            current = await periodic_documents(self._store, sub)
            documents = await self._contexts.compact(
                sub, await with_linked(self._store, sub, current)
            )
            async with self._subscriptions.transaction() as conn:
                if documents:
                    await queue.enqueue(
                        conn, sub.tenant, sub.id, documents, now, self._options.max_pending
                    )
                await queue.mark_periodic(conn, sub.tenant, sub.id, now)
            count += 1
        return count

    async def _send_due(self, live: list[Subscription], now: datetime) -> int:
        async with self._subscriptions.connection() as conn:
            pending = await queue.due(conn, now, self._options.sends_per_round)
        by_sub: dict[tuple[str, str], list[PendingNotification]] = defaultdict(list)
        for row in pending:
            by_sub[(row.tenant, row.subscription_id)].append(row)
        subs = {(s.tenant, s.id): s for s in live}
        jobs = [self._deliver(subs[key], rows, now) for key, rows in by_sub.items() if key in subs]
        await asyncio.gather(*jobs)
        return len(pending)

    async def _deliver(
        self, sub: Subscription, rows: list[PendingNotification], now: datetime
    ) -> None:
        key = (sub.tenant, sub.id)
        for group in _chunks(rows, self._options.entities_per_notification):
            self._in_flight[key] = under_way = asyncio.Event()
            try:
                if not await self._deliver_one(sub, group, now):
                    return
            finally:
                under_way.set()
                if self._in_flight.get(key) is under_way:
                    del self._in_flight[key]

    async def _deliver_one(
        self, sub: Subscription, group: list[PendingNotification], now: datetime
    ) -> bool:
        """One notification of ``group``'s entities, its outcome recorded; whether it went."""
        notification = _notification(sub, [doc for row in group for doc in row.data], now)
        async with self._subscriptions.connection() as conn:
            await queue.attempting(conn, group[0], now)
        try:
            await self._sender.send(
                sub.body.notification.endpoint, sub.tenant, notification, _link(sub)
            )
        except DeliveryError as exc:
            self._count(sub, "failed")
            attempts = max(row.attempts for row in group) + 1
            retry_at = now + timedelta(seconds=backoff_s(attempts, self._options.max_backoff_s))
            async with self._subscriptions.connection() as conn:
                await queue.failed(conn, group, now, retry_at, str(exc))
            log.warning(
                "notification failed",
                extra={"subscription": sub.id, "attempts": attempts, "reason": str(exc)},
            )
            return False
        self._count(sub, "delivered")
        async with self._subscriptions.connection() as conn:
            await queue.delivered(conn, group, now, sub.body.throttling or 0)
        return True

    def _count(self, sub: Subscription, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.notifications.labels(sub.tenant, outcome).inc()


def _chunks(rows: list[PendingNotification], most: int) -> list[list[PendingNotification]]:
    """Queued rows in order, joined into notifications of at most ``most`` entities: a
    backlog (an endpoint back from an outage, a throttled subscription) leaves in few
    requests."""
    return runs_of_at_most(rows, lambda row: len(row.data), most)


def _link(sub: Subscription) -> str:
    """The context a JSON notification names in its Link header: the subscription's
    ``jsonldContext``, or its own @context (its first, if a list of URLs), else the core."""
    context = sub.body.jsonldContext or sub.body.context
    if isinstance(context, list) and context and isinstance(context[0], str):
        context = context[0]
    return context if isinstance(context, str) else CORE_CONTEXT


def _notification(sub: Subscription, data: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "Notification",
        "subscriptionId": sub.id,
        "notifiedAt": iso_utc(now),
        "data": data,
    }
    if sub.body.notification.endpoint.accept == "application/ld+json":
        # JSON-LD: each entity is a document of its own, with its context (NGSI-LD 5.3.1)
        context = sub.body.jsonldContext or sub.body.context or CORE_CONTEXT
        body["@context"] = context
        body["data"] = [{**entity, "@context": context} for entity in data]
    return body
