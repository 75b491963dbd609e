"""What a notification says about an entity: normalized or keyValues, selected attributes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from interoperability.entities.attribute_merge import collapsed
from interoperability.entities.concise import concise
from interoperability.entities.instances import instances
from interoperability.jsonld.resolver import ContextResolver, ContextUnavailableError
from interoperability.jsonld.terms import Context, ContextError, TermMapper
from interoperability.ngsild import VALUE_MEMBER, render_entity, type_member
from interoperability.subscriptions.changes import (
    ENTITY_DELETED,
    gone,
    reading,
    with_deleted_instances,
    with_previous,
)
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
        if params.simplified and isinstance(attr, dict):
            shaped[name] = attr.get(VALUE_MEMBER.get(str(attr.get("type")), "value"))
        elif params.format == "concise":
            shaped[name] = concise(attr)
        else:
            shaped[name] = attr
    return shaped


def _of_datasets(attribute: Any, dataset_ids: list[str]) -> Any:
    """The attribute's instances of those datasetIds (None if it has none of them)."""
    found = [i for i in instances(attribute) if i.get("datasetId", "@none") in dataset_ids]
    return collapsed(found)


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
    """(the entity as notified, its values for q): the state with the change's values, its
    deleted attributes as NGSI-LD Null and (``showChanges``) what each changed one was."""
    document = _gone(change, sub) if state is None else _rendered(state, sub)
    show_changes = bool(sub.body.notification.showChanges)
    sys_attrs = bool(sub.body.notification.sysAttrs)
    for name, changed in change.attrs.items():
        if changed.event == "attributeDeleted":  # NGSI-LD 4.5.0: notified as NGSI-LD Null
            if state is None and not _shows_deleted(change, sub, name):
                continue
            shown: Any = gone(changed, change.event, change.changed_at, sys_attrs)
            if state is not None and name in document:  # instances of it deleted, not all
                shown = with_deleted_instances(document[name], changed, change.changed_at,
                                               sys_attrs)  # fmt: skip
        else:  # a reading's value, or an attribute kept whole: the state says what it is
            shown = reading(name, changed, sys_attrs) or document.get(name)
        if shown is None:
            continue
        document[name] = with_previous(shown, changed.previous) if show_changes else shown
    return _shaped(document, sub), _values(document)


def _gone(change: Change, sub: Subscription) -> dict[str, Any]:
    """An entity no longer there: its deletion time and (``sysAttrs``) its system times."""
    document: dict[str, Any] = {"id": change.entity_id, "type": type_member(change.types)}
    if sub.body.notification.sysAttrs and change.created_at and change.modified_at:
        document["createdAt"] = iso_utc(change.created_at)
        document["modifiedAt"] = iso_utc(change.modified_at)
    if change.event == ENTITY_DELETED:
        document["deletedAt"] = iso_utc(change.changed_at)
    return document


def _shows_deleted(change: Change, sub: Subscription, name: str) -> bool:
    """Which attributes of a deleted entity a notification shows: all of them with
    ``showChanges`` to one about the entity's deletion (their previous values), else those
    whose deletion notifies (the watched ones)."""
    if change.event == ENTITY_DELETED and ENTITY_DELETED in sub.triggers:
        return bool(sub.body.notification.showChanges)
    watched = sub.body.watchedAttributes
    return watched is None or name in watched


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
        if sub.selects(state.entity_id, state.types)
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
        params = sub.body.notification
        inline = params.join == "inline" and params.simplified  # linked entities as values
        return [_renamed(d, mapper.to_client, inline) for d in documents]


def _renamed(
    document: dict[str, Any], rename: Callable[[str], str], inline: bool = False
) -> dict[str, Any]:
    """The entity in the subscriber's terms, the linked entities it carries too."""
    keep = ("id", "type")
    out = {k if k in keep else rename(k): _linked_renamed(v, rename, inline)
           for k, v in document.items()}  # fmt: skip
    kind = document.get("type")  # pick may leave it out
    if isinstance(kind, str):
        out["type"] = rename(kind)
    elif isinstance(kind, list):
        out["type"] = [rename(k) if isinstance(k, str) else k for k in kind]
    return out


def _linked_renamed(value: Any, rename: Callable[[str], str], inline: bool) -> Any:
    """An attribute with the entity it links to (join=inline) in the subscriber's terms."""
    if isinstance(value, dict) and isinstance(value.get("entity"), dict):
        return value | {"entity": _renamed(value["entity"], rename, inline)}
    if inline and isinstance(value, dict) and {"id", "type"} <= value.keys():
        return _renamed(value, rename, inline)
    return value
