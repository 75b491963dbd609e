"""NGSI-LD context information: GET /ngsi-ld/v1/entities and /entities/{id}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from interoperability.deps import EntityIdPath, LdJsonDep, StoreDep, TenantDep
from interoperability.ngsild import LINK_HEADER, render_entity

router = APIRouter(prefix="/ngsi-ld/v1", tags=["entities"])
MAX_LIMIT = 1000


def ngsi_response(body: Any, ld_json: bool, headers: dict[str, str] | None = None) -> Response:
    """JSON with a Link header, or JSON-LD with @context in the body (NGSI-LD 6.3.6)."""
    out = dict(headers or {})
    if ld_json:
        return JSONResponse(body, media_type="application/ld+json", headers=out)
    out["Link"] = LINK_HEADER
    return JSONResponse(body, headers=out)


@router.get("/entities", summary="Query entities by type")
async def query_entities(
    store: StoreDep,
    tenant: TenantDep,
    ld_json: LdJsonDep,
    type_: Annotated[str | None, Query(alias="type", pattern=r"^[A-Za-z0-9_:.\-/#]+$")] = None,
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    count: Annotated[bool, Query()] = False,
) -> Response:
    states = await store.list_entities(tenant, type_, limit, offset) if limit else []
    headers = {}
    if count:
        headers["NGSILD-Results-Count"] = str(await store.count_entities(tenant, type_))
    return ngsi_response([render_entity(s, ld_json) for s in states], ld_json, headers)


@router.get("/entities/{entity_id}", summary="Retrieve one entity")
async def retrieve_entity(
    entity_id: EntityIdPath, store: StoreDep, tenant: TenantDep, ld_json: LdJsonDep
) -> Response:
    state = await store.get_entity(tenant, entity_id)
    return ngsi_response(render_entity(state, ld_json), ld_json)
