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


def _links(shape: Shape, state: EntityState) -> Iterator[tuple[str, Shape]]:
    """(entity id, how to render it) of each entity ``state`` links to through an attribute
    its answer keeps: links left out by pick or omit are not followed."""
    kept = shape.document(state)
    for name, target in _targets(state):
        if name in kept:
            yield target, shape.through(name)


async def linked_states(
    store: KnowledgeStore, tenant: str, shape: Shape, roots: list[EntityState], levels: int
) -> dict[str, EntityState]:
    """Every entity the roots link to, ``levels`` links away at most, by id."""
    found: dict[str, EntityState] = {}
    frontier, seen = [(s, shape) for s in roots], {s.entity_id for s in roots}
    for _ in range(levels):
        shapes = {t: sub for s, sh in frontier for t, sub in _links(sh, s) if t not in seen}
        wanted = sorted(shapes)[:MAX_LINKED]
        if not wanted:
            break
        seen |= set(wanted)
        states = await store.list_entities(
            tenant, None, len(wanted), 0, EntityQuery(ids=tuple(wanted))
        )
        found |= {s.entity_id: s for s in states}
        frontier = [(s, shapes[s.entity_id]) for s in states]
        if len(found) >= MAX_LINKED:
            break
    return found


def inline(shape: Shape, state: EntityState, linked: dict[str, EntityState], levels: int) -> Any:
    """The entity as ``shape`` renders it, each link carrying its entity (``levels`` deep)."""
    return attach(shape, shape.document(state), state, linked, levels)


def attach(
    shape: Shape, document: Any, state: EntityState, linked: dict[str, EntityState], levels: int
) -> Any:
    """``document`` (``state`` as ``shape`` renders it) with each link carrying its entity."""
    if levels <= 0:
        return document
    for name, target in _targets(state):
        if target not in linked or name not in document:
            continue
        entity = inline(shape.through(name), linked[target], linked, levels - 1)
        entity.pop("@context", None)
        if shape.key_values:
            document[name] = entity
        elif isinstance(document[name], dict):
            document[name] = document[name] | {"entity": entity}
    return document


def flat(
    shape: Shape, roots: list[EntityState], linked: dict[str, EntityState], levels: int
) -> list[Any]:
    """The entities, then those they link to."""
    return [shape.document(s) for s in roots] + linked_documents(shape, roots, linked, levels)


def linked_documents(
    shape: Shape, roots: list[EntityState], linked: dict[str, EntityState], levels: int
) -> list[Any]:
    """The entities the roots link to, each once, as the first path to it projects it."""
    answer = []
    frontier, seen = [(s, shape) for s in roots], {s.entity_id for s in roots}
    for _ in range(levels):
        reached = []
        for state, at in frontier:
            for target, sub in _links(at, state):
                if target in linked and target not in seen:
                    seen.add(target)
                    reached.append((linked[target], sub))
                    answer.append(sub.document(linked[target]))
        frontier = reached
    return answer
