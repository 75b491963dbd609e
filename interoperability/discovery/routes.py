"""GET /types, /types/{type}, /attributes, /attributes/{attr}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from interoperability.api_state import api_state
from interoperability.auth.access import TenantDep
from interoperability.deps import LdJsonDep, ReaderDep, ngsi_response
from interoperability.discovery import documents
from interoperability.ngsild import CORE_CONTEXT
from support import NotFoundError

router = APIRouter(prefix="/ngsi-ld/v1", tags=["discovery"])
DetailsQuery = Annotated[bool, Query(description="one document per type or attribute")]
NamePath = Annotated[str, Path(max_length=2048, description="A type or attribute name, or IRI")]


def _answer(doc: object, ld_json: bool) -> Response:
    if ld_json and isinstance(doc, dict):
        doc = {**doc, "@context": CORE_CONTEXT}
    elif ld_json and isinstance(doc, list):
        doc = [{**d, "@context": CORE_CONTEXT} for d in doc]
    return ngsi_response(doc, ld_json)


@router.get("/types", summary="The entity types the tenant holds")
async def list_types(
    request: Request, store: ReaderDep, tenant: TenantDep, ld_json: LdJsonDep,
    details: DetailsQuery = False,
) -> Response:  # fmt: skip
    types = await store.entity_types(tenant)
    if not details:
        return _answer(documents.type_list(types), ld_json)
    iri = api_state(request).platform.expand
    uses = await store.attribute_uses(tenant)
    return _answer(documents.type_details(types, uses, iri), ld_json)


@router.get("/types/{type_name:path}", summary="One entity type: its entities and attributes")
async def get_type(
    type_name: NamePath, request: Request, store: ReaderDep, tenant: TenantDep, ld_json: LdJsonDep
) -> Response:
    entities = (await store.entity_types(tenant)).get(type_name)
    if entities is None:
        raise NotFoundError(f"no entity of type {type_name!r:.200}")
    iri = api_state(request).platform.expand
    uses = await store.attribute_uses(tenant)
    return _answer(documents.type_info(type_name, entities, uses, iri), ld_json)


@router.get("/attributes", summary="The attributes the tenant's entities carry")
async def list_attributes(
    request: Request, store: ReaderDep, tenant: TenantDep, ld_json: LdJsonDep,
    details: DetailsQuery = False,
) -> Response:  # fmt: skip
    uses = await store.attribute_uses(tenant)
    if not details:
        return _answer(documents.attribute_list(uses), ld_json)
    iri = api_state(request).platform.expand
    return _answer(documents.attribute_details(uses, iri), ld_json)


@router.get("/attributes/{attr:path}", summary="One attribute: its types and entity types")
async def get_attribute(
    attr: NamePath, request: Request, store: ReaderDep, tenant: TenantDep, ld_json: LdJsonDep
) -> Response:
    found = [u for u in await store.attribute_uses(tenant) if u.attr == attr]
    if not found:
        raise NotFoundError(f"no entity carries an attribute {attr!r:.200}")
    iri = api_state(request).platform.expand
    return _answer(documents.attribute_info(attr, found, iri), ld_json)
