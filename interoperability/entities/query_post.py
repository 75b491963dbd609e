"""POST /entityOperations/query (NGSI-LD 5.7.2 by POST): the query as a ``Query`` body."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from interoperability.auth.access import TenantDep
from interoperability.deps import BadRequestError, ReaderDep
from interoperability.entities.linked import JOIN_LEVELS
from interoperability.entities.order_by import ORDER_BY_DOC, ordered
from interoperability.entities.read_routes import (
    MAX_LIMIT,
    GeoParams,
    documents,
    entity_query,
    with_attributes,
)
from interoperability.entities.representation import Representation, RepresentationDep
from knowledge import EntityQuery

router = APIRouter(prefix="/ngsi-ld/v1", tags=["entities"])


def _joined(selectors: list[Any], key: str) -> str | None:
    values = [s[key] for s in selectors if isinstance(s, dict) and isinstance(s.get(key), str)]
    return ",".join(dict.fromkeys(values)) or None


def _geo(geo_q: Any) -> GeoParams:
    if not isinstance(geo_q, dict):
        return GeoParams(None, None, None, "location")
    coordinates = geo_q.get("coordinates")
    text = (
        coordinates
        if isinstance(coordinates, str) or coordinates is None
        else json.dumps(coordinates)
    )
    return GeoParams(geo_q.get("georel"), geo_q.get("geometry"), text,
                     geo_q.get("geoproperty", "location"))  # fmt: skip


def query_of(body: dict[str, Any]) -> EntityQuery:
    """The entity query a Query body states (NGSI-LD 5.2.23)."""
    if body.get("type") != "Query":
        raise BadRequestError('the body must be a Query ({"type": "Query", "entities": ...})')
    selectors = body.get("entities") or []
    if not isinstance(selectors, list):
        raise BadRequestError("entities must be a list of entity selectors")
    return entity_query(
        _joined(selectors, "type"), _joined(selectors, "id"),
        next((s["idPattern"] for s in selectors if isinstance(s, dict) and "idPattern" in s),
             None),
        body.get("q"), _geo(body.get("geoQ")), body.get("scopeQ"),
    )  # fmt: skip


def _joining(shape: Representation, body: dict[str, Any]) -> Representation:
    """``join`` and ``joinLevel`` of the Query body (as the parameters of GET /entities)."""
    join, level = body.get("join", shape.join), body.get("joinLevel", shape.join_level)
    if join not in (None, "@none", "inline", "flat"):
        raise BadRequestError("join must be inline, flat or @none")
    if isinstance(level, str) and level.isdigit():
        level = int(level)
    if not isinstance(level, int) or not 1 <= level <= JOIN_LEVELS:
        raise BadRequestError(f"joinLevel must be a whole number from 1 to {JOIN_LEVELS}")
    return dataclasses.replace(shape, join=None if join == "@none" else join, join_level=level)


@router.post("/entityOperations/query", summary="Query entities by POST")
async def query_by_post(
    body: Annotated[dict[str, Any], Body(description="A Query: entities, attrs, q, geoQ")],
    store: ReaderDep,
    tenant: TenantDep,
    shape: RepresentationDep,
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    count: Annotated[bool, Query()] = False,
    order_by: Annotated[
        str | None, Query(alias="orderBy", max_length=1024, description=ORDER_BY_DOC)
    ] = None,
) -> Response:
    query = ordered(query_of(body), order_by)
    attrs = body.get("attrs")
    if isinstance(attrs, list) and attrs:
        shape = dataclasses.replace(shape, keep=frozenset(str(a) for a in attrs))
    shape = _joining(shape, body)
    query = with_attributes(query, shape)
    states = await store.list_entities(tenant, None, limit, offset, query) if limit else []
    headers = {}
    if count:
        headers["NGSILD-Results-Count"] = str(await store.count_entities(tenant, None, query))
    return shape.answer(await documents(store, tenant, shape, states), headers)
