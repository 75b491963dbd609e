"""What the API's routes and background work reach: one typed object on ``app.state.api``.

Built in ``create_app``; what the lifespan opens (the store, the registry and the owners
of the platform's tables) is attached when it is open, so a request that comes before
that gets a 503 instead of an attribute error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from acquisition import CommandQueue, DeviceRegistry
from interoperability.jsonld.resolver import ContextResolver
from interoperability.jsonld.terms import Context
from interoperability.store.api_keys import ApiKeyStore
from interoperability.store.api_stats import ApiStats
from interoperability.store.subscriptions import SubscriptionStore
from knowledge import KnowledgeStore
from support import Settings, StoreUnavailableError
from support.metrics import PlatformMetrics
from support.outbound import OutboundPolicy
from support.store import Database
from support.store.audit import AuditLog

if TYPE_CHECKING:
    from interoperability.subscriptions.notifier import Notifier


@dataclass(frozen=True, slots=True)
class OpenStores:
    """The knowledge store, the device registry and the API's own tables, open."""

    store: KnowledgeStore
    registry: DeviceRegistry
    commands: CommandQueue
    api_keys: ApiKeyStore
    audit: AuditLog
    subscriptions: SubscriptionStore
    database: Database  # the one they all share (closed by whoever opened it)
    reader: KnowledgeStore  # what entity and temporal queries read: the store, or a standby's


@dataclass(slots=True)
class ApiState:
    settings: Settings
    metrics: PlatformMetrics
    api_stats: ApiStats
    outbound: OutboundPolicy
    platform: Context  # the platform's JSON-LD context: stored names <-> IRIs
    stores: OpenStores | None = None
    notifier: Notifier | None = None  # set where this process runs the notifier
    resolver: ContextResolver | None = None  # contexts routes must have (jsonldContext)

    def open(self) -> OpenStores:
        if self.stores is None:
            raise StoreUnavailableError("the API is starting or stopping")
        return self.stores


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state
