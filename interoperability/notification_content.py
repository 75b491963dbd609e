"""What a notification says about an entity: normalized or keyValues, selected attributes."""

from __future__ import annotations

from typing import Any

from interoperability.ngsild import render_entity
from interoperability.subscriptions import Subscription
from knowledge import EntityState, KnowledgeStore
from knowledge.change_feed import Change
from knowledge.filters import EntityQuery
from support.times import iso_utc

MAX_PERIODIC_ENTITIES = 1000


def _values(document: dict[str, Any]) -> dict[str, float | str]:
    """Attribute values as the q language sees them (Property value, Relationship object)."""
    values: dict[str, float | str] = {}
    for name, attr in document.items():
        if not isinstance(attr, dict):
            continue
        value = attr.get("value", attr.get("object"))
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            values[name] = float(value) if isinstance(value, int) else value
    return values


def _shaped(document: dict[str, Any], sub: Subscription) -> dict[str, Any]:
    params = sub.body.notification
    keep = set(params.attributes) if params.attributes else None
    shaped: dict[str, Any] = {"id": document["id"], "type": document["type"]}
    for name, attr in document.items():
        if name in ("id", "type") or (keep is not None and name not in keep):
            continue
        if params.format == "keyValues" and isinstance(attr, dict):
            shaped[name] = attr.get("value", attr.get("object"))
        else:
            shaped[name] = attr
    return shaped


def entity_document(
    change: Change, state: EntityState | None, sub: Subscription
) -> tuple[dict[str, Any], dict[str, float | str]]:
    """(the entity as notified, its values for q): the state with the change's values."""
    if state is None:  # deleted since the change
        document: dict[str, Any] = {"id": change.entity_id, "type": change.entity_type}
    else:
        document = render_entity(state, with_context=False)
    for name, changed in change.attrs.items():
        prop: dict[str, Any] = {
            "type": "Property",
            "value": changed.value,
            "observedAt": iso_utc(changed.observed_at),
        }
        if changed.unit_code:
            prop["unitCode"] = changed.unit_code
        document[name] = prop
    return _shaped(document, sub), _values(document)


async def periodic_documents(store: KnowledgeStore, sub: Subscription) -> list[dict[str, Any]]:
    """The current state of the entities a timeInterval subscription selects."""
    selectors = sub.body.entities or []
    types = tuple(sorted({s.type for s in selectors})) or None
    states = await store.list_entities(
        sub.tenant, None, MAX_PERIODIC_ENTITIES, 0, EntityQuery(types=types, q=sub.q)
    )
    return [
        _shaped(render_entity(state, with_context=False), sub)
        for state in states
        if sub.selects(state.entity_id, state.entity_type)
    ]
