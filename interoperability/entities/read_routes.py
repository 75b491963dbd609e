"""NGSI-LD context information: GET /ngsi-ld/v1/entities and /entities/{id}."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from interoperability.auth.access import TenantDep
from interoperability.deps import (
    URI_PATTERN,
    BadRequestError,
    EntityIdPath,
    ReaderDep,
    check_name,
    page_links,
)
from interoperability.entities.linked import flat, inline, linked_states
from interoperability.entities.order_by import ORDER_BY_DOC, ordered
from interoperability.entities.q_language import parse_q
from interoperability.entities.representation import Representation, RepresentationDep
from interoperability.entities.selection import parse_scopes, parse_types
from knowledge import EntityQuery, EntityState, GeoFilter, KnowledgeStore, parse_geometry
from support import NotFoundError
from support.user_regex import PatternError, compile_pattern

router = APIRouter(prefix="/ngsi-ld/v1", tags=["entities"])
GEO_RELATIONS = ("near", "within", "contains", "intersects", "disjoint", "equals", "overlaps")
MAX_LIMIT = 1000


def _names(text: str | None, what: str) -> tuple[str, ...] | None:
    if text is None:
        return None
    names = tuple(check_name(what, n) for n in re.split(r"[,|]", text) if n)
    return names or None


def _uris(ids: tuple[str, ...] | None) -> tuple[str, ...] | None:
    wrong = [i for i in ids or () if not re.match(URI_PATTERN, i)]
    if wrong:
        raise BadRequestError(f"id {wrong[0]!r:.100} is not a URI")
    return ids


@dataclass(frozen=True, slots=True)
class GeoParams:
    georel: str | None
    geometry: str | None
    coordinates: str | None
    geoproperty: str


def _geo_filter(p: GeoParams) -> GeoFilter | None:
    """``georel=near;maxDistance==500`` + ``geometry=Point`` + ``coordinates=[lon,lat]``."""
    if p.georel is None and p.geometry is None and p.coordinates is None:
        return None
    if p.georel is None or p.geometry is None or p.coordinates is None:
        raise BadRequestError("geo-queries need georel, geometry and coordinates together")
    relation, *modifiers = p.georel.split(";")
    if relation not in GEO_RELATIONS:
        raise BadRequestError(f"georel must be one of {', '.join(GEO_RELATIONS)}")
    distances: dict[str, float] = {}
    for modifier in modifiers:
        name, _, value = modifier.partition("==")
        try:
            distances[name] = float(value)
        except ValueError:
            raise BadRequestError(f"georel modifier {modifier!r:.60} is not name==metres") from None
    if relation == "near" and not distances.keys() & {"maxDistance", "minDistance"}:
        raise BadRequestError("georel=near needs maxDistance==<m> or minDistance==<m>")
    try:
        shape = parse_geometry(p.geometry, json.loads(p.coordinates))
    except (ValueError, RecursionError) as exc:
        raise BadRequestError(f"coordinates: {exc}") from None
    if relation == "near" and shape.kind != "Point":
        raise BadRequestError("georel=near needs geometry=Point")
    return GeoFilter(
        relation,  # type: ignore[arg-type]  # checked against GEO_RELATIONS above
        shape,
        distances.get("maxDistance"),
        distances.get("minDistance"),
        check_name("geoproperty", p.geoproperty),
    )


def entity_query(
    type_: str | None,
    ids: str | None,
    id_pattern: str | None,
    q: str | None,
    geo: GeoParams,
    scope_q: str | None = None,
) -> EntityQuery:
    if id_pattern is not None:
        try:
            compile_pattern(id_pattern)
        except PatternError as exc:
            raise BadRequestError(f"idPattern: {exc}") from None
    groups = parse_types(type_) if type_ is not None else ()
    singles = all(len(group) == 1 for group in groups)
    return EntityQuery(
        types=tuple(group[0] for group in groups) if groups and singles else None,
        type_groups=groups if not singles else None,
        scope_groups=parse_scopes(scope_q) if scope_q is not None else None,
        ids=_uris(_names(ids, "id")),
        id_pattern=id_pattern,
        q=parse_q(q) if q is not None else None,
        geo=_geo_filter(geo),
    )


def with_attributes(query: EntityQuery, shape: Representation) -> EntityQuery:
    """``attrs`` selects too (5.7.2): only entities having one of the attributes named."""
    if shape.picked or not shape.keep:
        return query
    return replace(query, having_any=tuple(sorted(shape.keep)))


@router.get("/entities", summary="Query entities")
async def query_entities(
    request: Request,
    store: ReaderDep,
    tenant: TenantDep,
    shape: RepresentationDep,
    type_: Annotated[
        str | None, Query(alias="type", description="Type names; `,` or `|` for any of them")
    ] = None,
    ids: Annotated[str | None, Query(alias="id", description="Comma-separated ids")] = None,
    id_pattern: Annotated[str | None, Query(alias="idPattern", max_length=256)] = None,
    q: Annotated[str | None, Query(description="NGSI-LD query language")] = None,
    scope_q: Annotated[
        str | None, Query(alias="scopeQ", max_length=4096, description="e.g. /Madrid/#")
    ] = None,
    georel: Annotated[
        str | None, Query(description="near;maxDistance==m, within, contains, intersects...")
    ] = None,
    geometry: Annotated[str | None, Query(description="Point or Polygon")] = None,
    coordinates: Annotated[
        str | None, Query(max_length=100_000, description="GeoJSON coordinates")
    ] = None,
    geoproperty: str = "location",
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    count: Annotated[bool, Query()] = False,
    order_by: Annotated[
        str | None, Query(alias="orderBy", max_length=1024, description=ORDER_BY_DOC)
    ] = None,
) -> Response:
    geo = GeoParams(georel, geometry, coordinates, geoproperty)
    query = with_attributes(
        ordered(entity_query(type_, ids, id_pattern, q, geo, scope_q), order_by), shape
    )
    # one more than asked: whether a next page exists, without counting every match
    states = await store.list_entities(tenant, None, limit + 1, offset, query) if limit else []
    headers = {}
    if count:
        headers["NGSILD-Results-Count"] = str(await store.count_entities(tenant, None, query))
    pages = page_links(request, limit, offset, more=len(states) > limit) if limit else None
    return shape.answer(await documents(store, tenant, shape, states[:limit]), headers, pages)


@router.get("/entities/{entity_id}", summary="Retrieve one entity")
async def retrieve_entity(
    entity_id: EntityIdPath, store: ReaderDep, tenant: TenantDep, shape: RepresentationDep
) -> Response:
    state = await store.get_entity(tenant, entity_id)
    document = shape.document(state)
    if not set(document) - {"@context"}:  # omit (or pick) left no member at all (4.21)
        raise NotFoundError(f"pick/omit leave none of the members of {entity_id}")
    if shape.asks_attributes and not shape.attributes_in(document):
        raise NotFoundError(f"{entity_id} has none of the attributes asked for")
    if shape.join is None:
        return shape.answer(document)
    linked = await linked_states(store, tenant, shape, [state], shape.join_level)
    if shape.join == "flat":  # with nothing linked, the entity alone
        answer = flat(shape, [state], linked, shape.join_level)
        return shape.answer(answer if len(answer) > 1 else answer[0])
    return shape.answer(inline(shape, state, linked, shape.join_level))


async def documents(
    store: KnowledgeStore, tenant: str, shape: Representation, states: list[EntityState]
) -> list[Any]:
    """The entities as ``shape`` renders them, with their linked entities if it joins."""
    if shape.join is None:  # an entity pick/omit leave no member of is no result (4.21)
        return [d for d in map(shape.document, states) if set(d) - {"@context"}]
    linked = await linked_states(store, tenant, shape, states, shape.join_level)
    if shape.join == "flat":
        return flat(shape, states, linked, shape.join_level)
    return [inline(shape, s, linked, shape.join_level) for s in states]
