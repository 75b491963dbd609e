"""NGSI-LD purge (5.6.21): DELETE /ngsi-ld/v1/entities with a selection deletes the
entities it selects, or (``drop``/``keep``) only some of their attributes. Bounded: a purge
that would touch more than MAX_PURGE entities is refused before anything goes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from interoperability.auth.access import TenantDep
from interoperability.deps import BadRequestError, StoreDep, name_set
from interoperability.entities.read_routes import GeoParams, entity_query
from interoperability.ngsild import render_entity
from knowledge import EntityQuery, KnowledgeStore

router = APIRouter(prefix="/ngsi-ld/v1", tags=["entities"])
MAX_PURGE = 10_000
_MEMBERS = frozenset({"id", "type", "@context"})


@router.delete("/entities", status_code=204, summary="Purge the entities a query selects")
async def purge_entities(
    store: StoreDep,
    tenant: TenantDep,
    type_: Annotated[str | None, Query(alias="type")] = None,
    ids: Annotated[str | None, Query(alias="id")] = None,
    id_pattern: Annotated[str | None, Query(alias="idPattern", max_length=256)] = None,
    q: Annotated[str | None, Query(max_length=4096)] = None,
    scope_q: Annotated[str | None, Query(alias="scopeQ", max_length=4096)] = None,
    keep: Annotated[str | None, Query(description="Attributes to keep")] = None,
    drop: Annotated[str | None, Query(description="Attributes to delete")] = None,
    local: Annotated[bool, Query(description="everything this broker holds is local")] = False,
) -> Response:
    if not any((type_, ids, id_pattern, q, scope_q, local)):
        raise BadRequestError("say which entities to purge: type, id, idPattern, q or scopeQ")
    if keep is not None and drop is not None:
        raise BadRequestError("keep and drop exclude each other")
    geo = GeoParams(None, None, None, "location")
    query = entity_query(type_, ids, id_pattern, q, geo, scope_q)
    matching = await store.count_entities(tenant, None, query)
    if matching > MAX_PURGE:
        raise BadRequestError(
            f"{matching} entities match; one purge takes at most {MAX_PURGE}: narrow it"
        )
    kept, dropped = name_set(keep, "keep"), name_set(drop, "drop")
    await _purge(store, tenant, query, kept, dropped)
    return Response(status_code=204)


async def _purge(
    store: KnowledgeStore,
    tenant: str,
    query: EntityQuery,
    kept: frozenset[str] | None,
    dropped: frozenset[str] | None,
) -> None:
    states = await store.list_entities(tenant, None, MAX_PURGE, 0, query)
    for state in states:
        if kept is None and dropped is None:
            await store.delete_entity(tenant, state.entity_id)
            continue
        names = set(render_entity(state, with_context=False)) - _MEMBERS
        going = names & dropped if dropped is not None else names - (kept or frozenset())
        for name in sorted(going):
            await store.delete_attribute(tenant, state.entity_id, name)
