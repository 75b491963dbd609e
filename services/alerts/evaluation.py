"""Alerts from every vertical, as NGSI-LD ``Alert`` entities (Smart Data Models shape).

An alert is an entity, so the subscription mechanism delivers it: a
subscription on type ``Alert`` gets each new alert and each acknowledgement
over HTTP or MQTT, with the platform's retries and ordering. The id is made
from the rule, the source entity and the window, so evaluating the same
window twice (another API process, a restart, a backfill) raises nothing new.
The dynamic attribute ``alertStatus`` goes ``open`` -> ``acknowledged``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from knowledge import (
    Comparison,
    EntityQuery,
    EntityRecord,
    EntityState,
    KnowledgeStore,
    Reading,
    TimeRange,
    ValueType,
)
from services.alerts.rules import AlertRule, Exceedance, exceedances
from services.entity_state import attribute_state
from support import AlreadyExistsError, NotFoundError
from support.times import iso_utc

ALERT_TYPE = "Alert"
STATUS = "alertStatus"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """What a vertical found: one alert to raise, before it becomes an entity."""

    rule: str
    source_id: str
    window_start: datetime
    window_end: datetime
    category: str
    sub_category: str
    severity: str
    description: str
    value: float | None = None
    threshold: float | None = None
    unit: str = ""


def alert_id(draft: AlertDraft) -> str:
    """Window start first: ids sort by time, so the newest alerts are the last ids."""
    source = hashlib.sha256(draft.source_id.encode()).hexdigest()[:12]
    return f"urn:ngsi-ld:Alert:{draft.window_start:%Y%m%dT%H%MZ}:{draft.rule}:{source}"


def draft_from(exceedance: Exceedance) -> AlertDraft:
    rule = exceedance.rule
    start = exceedance.window_start
    sign = ">" if rule.direction == "above" else "<"
    return AlertDraft(
        rule=rule.name,
        source_id=exceedance.entity_id,
        window_start=start,
        window_end=start + timedelta(seconds=rule.period_s),
        category=rule.category,
        sub_category=rule.sub_category,
        severity=rule.severity,
        description=f"{rule.description}: {exceedance.value:.1f} {rule.unit} {sign} "
        f"{rule.threshold:g} {rule.unit}".replace("  ", " "),
        value=round(exceedance.value, 2),
        threshold=rule.threshold,
        unit=rule.unit,
    )


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def alert_entity(tenant: str, draft: AlertDraft, issued: datetime, source: EntityState | None
                 ) -> tuple[EntityRecord, tuple[Reading, ...]]:  # fmt: skip
    static: dict[str, Any] = {
        "alertSource": _prop(draft.source_id),
        "category": _prop(draft.category),
        "subCategory": _prop(draft.sub_category),
        "severity": _prop(draft.severity),
        "description": _prop(draft.description),
        "dateIssued": _prop({"@type": "DateTime", "@value": iso_utc(issued)}),
        "validFrom": _prop({"@type": "DateTime", "@value": iso_utc(draft.window_start)}),
        "validTo": _prop({"@type": "DateTime", "@value": iso_utc(draft.window_end)}),
        "alertRule": _prop(draft.rule),
    }
    if draft.value is not None and draft.threshold is not None:
        static["measuredValue"] = _prop(draft.value)
        static["threshold"] = _prop(draft.threshold)
    if source is not None and "location" in source.static:
        static["location"] = source.static["location"]
    entity_id = alert_id(draft)
    status = Reading(tenant, entity_id, ALERT_TYPE, STATUS, issued, "open", ValueType.TEXT)
    return EntityRecord(tenant, entity_id, ALERT_TYPE, static), (status,)


async def raise_alerts(store: KnowledgeStore, tenant: str, drafts: Iterable[AlertDraft]) -> int:
    """Stores the drafts not stored before; returns how many were new."""
    issued = datetime.now(UTC)
    sources: dict[str, EntityState | None] = {}
    new = 0
    for draft in drafts:
        if draft.source_id not in sources:
            try:
                sources[draft.source_id] = await store.get_entity(tenant, draft.source_id)
            except NotFoundError:
                sources[draft.source_id] = None
        entity, readings = alert_entity(tenant, draft, issued, sources[draft.source_id])
        try:
            await store.create_entity(entity, readings)
        except AlreadyExistsError:
            continue
        new += 1
        log.info("alert raised", extra={"alert": entity.entity_id, "tenant": tenant})
    return new


def _whole_windows(window: TimeRange, period_s: int) -> TimeRange | None:
    """The windows of ``period_s`` that touch ``window`` and have ended by its end."""
    if window.start is None or window.end is None:
        return None
    start_s = int(window.start.timestamp()) // period_s * period_s
    end_s = int(window.end.timestamp()) // period_s * period_s
    if end_s <= start_s:
        return None
    return TimeRange(datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(end_s, UTC))


async def rule_drafts(
    store: KnowledgeStore, tenant: str, rules: Iterable[AlertRule], window: TimeRange
) -> list[AlertDraft]:
    """Every rule's exceedances in ``window`` (whole windows of each rule's period)."""
    drafts: list[AlertDraft] = []
    for rule in rules:
        whole = _whole_windows(window, rule.period_s)
        if whole is None:
            continue
        aggregates = await store.aggregate(
            tenant, rule.attribute, rule.period_s, whole, rule.entity_type
        )
        drafts.extend(draft_from(e) for e in exceedances(rule, aggregates))
    return drafts


async def acknowledge(store: KnowledgeStore, tenant: str, entity_id: str) -> datetime:
    """Marks an alert acknowledged (subscribers are notified); NotFoundError if it is no
    alert. Acknowledging twice keeps the first time."""
    entity = await store.get_entity(tenant, entity_id)
    if entity.entity_type != ALERT_TYPE:
        raise NotFoundError(f"alert {entity_id} not found")
    state = attribute_state(entity, STATUS)
    if state is not None and state.value == "acknowledged":
        return state.observed_at
    now = datetime.now(UTC)
    reading = Reading(tenant, entity_id, ALERT_TYPE, STATUS, now, "acknowledged", ValueType.TEXT)
    await store.append_attributes(tenant, entity_id, {}, (reading,))
    return now


def status_query(status: str | None) -> EntityQuery | None:
    return EntityQuery(q=Comparison(STATUS, "==", status)) if status else None


async def newest_alerts(
    store: KnowledgeStore, tenant: str, limit: int, status: str | None = None
) -> list[dict[str, Any]]:
    """The alerts of the latest windows, newest first (the last ids, see alert_id)."""
    query = status_query(status)
    total = await store.count_entities(tenant, ALERT_TYPE, query)
    found = await store.list_entities(tenant, ALERT_TYPE, limit, max(0, total - limit), query)
    return [render_alert(e) for e in reversed(found)]


def render_alert(entity: EntityState) -> dict[str, Any]:
    """An alert as the alert list and the dashboard show it."""

    def plain(name: str) -> Any:
        attribute = entity.static.get(name)
        value = attribute.get("value") if isinstance(attribute, dict) else None
        return value.get("@value") if isinstance(value, dict) else value

    state = attribute_state(entity, STATUS)
    return {
        "id": entity.entity_id,
        "rule": plain("alertRule"),
        "source": plain("alertSource"),
        "category": plain("category"),
        "subCategory": plain("subCategory"),
        "severity": plain("severity"),
        "description": plain("description"),
        "value": plain("measuredValue"),
        "threshold": plain("threshold"),
        "validFrom": plain("validFrom"),
        "validTo": plain("validTo"),
        "dateIssued": plain("dateIssued"),
        "status": state.value if state else "open",
        "acknowledgedAt": iso_utc(state.observed_at)
        if state and state.value == "acknowledged"
        else None,
    }
