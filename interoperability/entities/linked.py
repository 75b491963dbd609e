"""Linked entities (NGSI-LD 4.5.23): with ``join=inline`` each Relationship carries the
entity it points to (``entity``, or in keyValues the entity in place of its id); with
``join=flat`` the entities pointed to follow in the answer's list. ``joinLevel`` follows
the links of the linked entities too. Bounded: JOIN_LEVELS deep, MAX_LINKED entities."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import Query

from interoperability.entities.instances import instances
from interoperability.ngsild import render_entity
from knowledge import EntityQuery, EntityState, KnowledgeStore

JOIN_LEVELS = 5
MAX_LINKED = 1000
Join = Literal["inline", "flat", "@none"]
JoinQuery = Annotated[Join | None, Query(description="inline or flat: linked entities")]
JoinLevelQuery = Annotated[int, Query(alias="joinLevel", ge=1, le=JOIN_LEVELS)]
Shape = Any  # the Representation (entities.representation imports this module)


def _targets(state: EntityState) -> Iterator[tuple[str, str]]:
    """(attribute name, entity id) of each Relationship and ListRelationship."""
    for name, attribute in render_entity(state, with_context=False).items():
        for instance in instances(attribute) if name not in ("id", "type") else []:
            if instance.get("type") == "Relationship" and isinstance(instance.get("object"), str):
                yield name, instance["object"]
            elif instance.get("type") == "ListRelationship":
                for target in instance.get("objectList") or []:
                    if isinstance(target, str):
                        yield name, target


async def linked_states(
    store: KnowledgeStore, tenant: str, roots: list[EntityState], levels: int
) -> dict[str, EntityState]:
    """Every entity the roots link to, ``levels`` links away at most, by id."""
    found: dict[str, EntityState] = {}
    frontier, seen = roots, {s.entity_id for s in roots}
    for _ in range(levels):
        wanted = sorted({t for s in frontier for _, t in _targets(s)} - seen)[:MAX_LINKED]
        if not wanted:
            break
        seen |= set(wanted)
        frontier = await store.list_entities(
            tenant, None, len(wanted), 0, EntityQuery(ids=tuple(wanted))
        )
        found |= {s.entity_id: s for s in frontier}
        if len(found) >= MAX_LINKED:
            break
    return found


def inline(shape: Shape, state: EntityState, linked: dict[str, EntityState], levels: int) -> Any:
    """The entity as ``shape`` renders it, each link carrying its entity (``levels`` deep)."""
    document = shape.document(state)
    if levels <= 0:
        return document
    for name, target in _targets(state):
        if target not in linked or name not in document:
            continue
        entity = inline(shape, linked[target], linked, levels - 1)
        entity.pop("@context", None)
        if shape.key_values:
            document[name] = entity
        elif isinstance(document[name], dict):
            document[name] = document[name] | {"entity": entity}
    return document


def flat(shape: Shape, roots: list[EntityState], linked: dict[str, EntityState]) -> list[Any]:
    """The entities, then those they link to (each once)."""
    ids = {s.entity_id for s in roots}
    extra = [s for i, s in linked.items() if i not in ids]
    return [shape.document(s) for s in [*roots, *extra]]
