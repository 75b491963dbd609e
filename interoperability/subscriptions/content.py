"""What a notification says about an entity: normalized or keyValues, selected attributes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from interoperability.entities.attribute_merge import NULL, collapsed
from interoperability.entities.instances import instances
from interoperability.jsonld.resolver import ContextResolver, ContextUnavailableError
from interoperability.jsonld.terms import Context, ContextError, TermMapper
from interoperability.ngsild import VALUE_MEMBER, render_entity
from interoperability.subscriptions.model import Subscription
from knowledge import Change, EntityQuery, EntityState, KnowledgeStore
from support.times import iso_utc

MAX_PERIODIC_ENTITIES = 1000
SYSTEM_MEMBERS = ("createdAt", "modifiedAt", "deletedAt")
log = logging.getLogger(__name__)


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
    keep = set(params.attributes or params.pick or ()) or None
    omit = set(params.omit or ())
    picked = set(params.pick) if params.pick is not None else {"id", "type"}
    shaped: dict[str, Any] = {
        k: document[k] for k in ("id", "type") if k not in omit and k in picked
    }
    for name, whole in document.items():
        if name in SYSTEM_MEMBERS and name not in omit:
            shaped[name] = whole
        if name in ("id", "type", *SYSTEM_MEMBERS) or name in omit:
            continue
        if keep is not None and name not in keep:
            continue
        attr = whole if sub.body.datasetId is None else _of_datasets(whole, sub.body.datasetId)
        if attr is None:
            continue
        if params.format == "keyValues" and isinstance(attr, dict):
            shaped[name] = attr.get(VALUE_MEMBER.get(str(attr.get("type")), "value"))
        else:
            shaped[name] = attr
    return shaped


def _of_datasets(attribute: Any, dataset_ids: list[str]) -> Any:
    """The attribute's instances of those datasetIds (None if it has none of them)."""
    found = [i for i in instances(attribute) if i.get("datasetId", "@none") in dataset_ids]
    return collapsed(found)


def deleted_attribute(kind: str) -> dict[str, Any]:
    """A deleted attribute as a notification shows it: its type with NGSI-LD Null."""
    member = VALUE_MEMBER.get(kind, "value")
    null: Any = NULL
    if member == "languageMap":
        null = {"@none": NULL}
    elif member in ("valueList", "objectList"):
        null = [NULL]
    return {"type": kind if kind in VALUE_MEMBER else "Property", member: null}


def _rendered(state: EntityState, sub: Subscription) -> dict[str, Any]:
    """The entity as it is, with its and its attributes' system times if asked for."""
    if not sub.body.notification.sysAttrs:
        return render_entity(state, with_context=False)
    created = state.created_at or state.modified_at
    return render_entity(state, with_context=False, sys_attrs=True) | {
        "createdAt": iso_utc(created),
        "modifiedAt": iso_utc(state.modified_at),
    }


def entity_document(
    change: Change, state: EntityState | None, sub: Subscription
) -> tuple[dict[str, Any], dict[str, float | str]]:
    """(the entity as notified, its values for q): the state with the change's values."""
    if state is None:  # deleted since the change
        document: dict[str, Any] = {"id": change.entity_id, "type": change.entity_type}
        if change.event == "entityDeleted":
            document["deletedAt"] = iso_utc(change.changed_at)
    else:
        document = _rendered(state, sub)
    for name, changed in change.attrs.items():
        if changed.event == "attributeDeleted":  # NGSI-LD 4.5.0: notified as NGSI-LD Null
            document[name] = deleted_attribute(changed.attribute_type or "Property")
            continue
        if changed.value is None or changed.observed_at is None:
            continue  # kept whole: the state says what it is
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
        _shaped(_rendered(state, sub), sub)
        for state in states
        if sub.selects(state.entity_id, state.entity_type)
    ]


class SubscriberTerms:
    """Renames notified entities into the terms of the subscriber's @context."""

    def __init__(self, resolver: ContextResolver, platform: Context) -> None:
        self._resolver = resolver
        self._platform = platform

    async def close(self) -> None:
        await self._resolver.close()

    async def compact(
        self, sub: Subscription, documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        spec = sub.body.jsonldContext or sub.body.context
        if spec is None:
            return documents
        try:
            user = (await self._resolver.resolve(spec)).under_core()
        except (ContextUnavailableError, ContextError) as exc:
            log.warning(
                "subscriber context unavailable: notifying with ciudad's names",
                extra={"subscription": sub.id, "reason": str(exc)},
            )
            return documents
        mapper = TermMapper.build(user, self._platform)
        return [_renamed(d, mapper.to_client) for d in documents]


def _renamed(document: dict[str, Any], rename: Callable[[str], str]) -> dict[str, Any]:
    keep = ("id", "type")
    out = {k if k in keep else rename(k): v for k, v in document.items()}
    out["type"] = rename(document["type"])
    return out
