"""Linked entities in notifications (NGSI-LD 4.5.23 with ``notification.join``): each
notified entity's Relationships carry the entity they point to (``inline``) or those
entities follow in the notification's data (``flat``), ``joinLevel`` links deep."""

from __future__ import annotations

from typing import Any

from interoperability.entities.linked import attach, linked_documents, linked_states
from interoperability.entities.representation import Representation
from interoperability.subscriptions.model import Subscription
from knowledge import EntityQuery, KnowledgeStore


def _shape(sub: Subscription) -> Representation:
    params = sub.body.notification
    kept = params.attributes or params.pick
    return Representation(
        key_values=params.simplified,
        concise=params.format == "concise",
        sys_attrs=bool(params.sysAttrs),
        keep=frozenset(kept) if kept is not None else None,
        picked=params.pick is not None,
        omit=frozenset(params.omit or ()),
        join=params.join if params.join != "@none" else None,
        join_level=params.joinLevel or 1,
    )


async def with_linked(
    store: KnowledgeStore, sub: Subscription, documents: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``documents`` (the notified entities) with what they link to, if ``sub`` joins."""
    shape = _shape(sub)
    if shape.join is None or not documents:
        return documents
    ids = tuple(dict.fromkeys(str(d["id"]) for d in documents))
    found = await store.list_entities(sub.tenant, None, len(ids), 0, EntityQuery(ids=ids))
    roots = {s.entity_id: s for s in found}
    linked = await linked_states(store, sub.tenant, shape, list(roots.values()), shape.join_level)
    if shape.join == "flat":
        present = [roots[i] for i in ids if i in roots]
        return documents + linked_documents(shape, present, linked, shape.join_level)
    return [
        attach(shape, d, roots[d["id"]], linked, shape.join_level) if d["id"] in roots else d
        for d in documents
    ]
