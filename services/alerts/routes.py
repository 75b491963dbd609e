"""Alert list, acknowledgement and on-demand evaluation; the periodic evaluator job."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from interoperability import (
    ApiState,
    BackgroundJob,
    EndTimeAtQuery,
    ReaderDep,
    StoreDep,
    TenantDep,
    TimeAtQuery,
    checked_range,
)
from knowledge import KnowledgeStore, TimeRange
from services.alerts.evaluation import acknowledge, newest_alerts, raise_alerts, rule_drafts
from services.alerts.rules import AlertRule
from services.energy.lighting_faults import fault_drafts
from support.times import iso_utc

log = logging.getLogger(__name__)
MAX_ALERTS = 1000


async def evaluate(
    store: KnowledgeStore, tenant: str, rules: Sequence[AlertRule], window: TimeRange
) -> int:
    """Raises the alerts of every rule in ``window`` and the lamps' current faults."""
    drafts = await rule_drafts(store, tenant, rules, window)
    drafts += await fault_drafts(store, tenant, datetime.now(UTC))
    return await raise_alerts(store, tenant, drafts)


def recent_range(rules: Sequence[AlertRule], now: datetime) -> TimeRange:
    """Two of the longest rule period back to now: each rule then judges its windows that
    have closed in it (late data gets a second look while the window stays in range)."""
    return TimeRange(now - timedelta(seconds=2 * max((r.period_s for r in rules), default=0)), now)


def alert_evaluator(rules: Sequence[AlertRule], interval_s: float) -> BackgroundJob:
    """A job that evaluates every tenant with a service group each ``interval_s``."""

    async def alerts(state: ApiState) -> None:
        while True:
            try:
                window = recent_range(rules, datetime.now(UTC))
                stores = state.open()
                tenants = {group.tenant for group in await stores.registry.groups()}
                for tenant in sorted(tenants):
                    await evaluate(stores.store, tenant, rules, window)
            except Exception:  # a bad round must not end the evaluator
                log.exception("alert evaluation failed; retrying next round")
            await asyncio.sleep(interval_s)

    return alerts


def alert_router(rules: Sequence[AlertRule]) -> APIRouter:
    router = APIRouter(prefix="/ciudad/v1/services/alerts", tags=["services: alerts"])

    @router.get("", summary="Alerts of every vertical, newest first")
    async def list_alerts(
        store: ReaderDep,
        tenant: TenantDep,
        status: Annotated[Literal["open", "acknowledged"] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_ALERTS)] = 100,
    ) -> list[dict[str, Any]]:
        return await newest_alerts(store, tenant, limit, status)

    @router.post("/{alert_id}/ack", summary="Acknowledge an alert (subscribers are notified)")
    async def ack(alert_id: str, store: StoreDep, tenant: TenantDep) -> dict[str, Any]:
        when = await acknowledge(store, tenant, alert_id)
        return {"id": alert_id, "status": "acknowledged", "acknowledgedAt": iso_utc(when)}

    @router.get("/rules", summary="The rules table in force")
    async def list_rules() -> list[dict[str, Any]]:
        return [r.model_dump() for r in rules]

    @router.post("/evaluate", summary="Evaluate the rules over a range now (backfill, replays)")
    async def evaluate_now(
        store: StoreDep,
        tenant: TenantDep,
        time_at: TimeAtQuery,
        end_time_at: EndTimeAtQuery,
    ) -> dict[str, int]:
        start, end = checked_range(time_at, end_time_at, max_days=92)
        return {"raised": await evaluate(store, tenant, rules, TimeRange(start, end))}

    return router
