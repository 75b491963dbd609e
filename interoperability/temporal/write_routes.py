"""NGSI-LD temporal provisioning: create or add history, delete it."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Path, Response

from acquisition import EntityRecord
from interoperability.auth.access import TenantDep
from interoperability.deps import (
    AttrPath,
    BadRequestError,
    EntityIdPath,
    StoreDep,
    check_name,
)
from interoperability.entities.body import parse_temporal_attributes
from interoperability.entities.write_clock import WriteClockDep
from interoperability.ngsild import instance_time, render_entity
from support import NotFoundError

router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["temporal"])
TemporalBody = Annotated[
    dict[str, Any], Body(description="Temporal representation: attributes as instance lists")
]


@router.post("/entities", summary="Create a temporal entity or add instances to it")
async def upsert_temporal_entity(
    body: TemporalBody, store: StoreDep, tenant: TenantDep, clock: WriteClockDep
) -> Response:
    """201 when the entity is new, 204 when its history grew (NGSI-LD 5.6.11)."""
    entity_id, entity_type = body.get("id"), body.get("type")
    if not isinstance(entity_id, str) or ":" not in entity_id:
        raise BadRequestError("id must be a URI (e.g. urn:ngsi-ld:Streetlight:leon:001)")
    entity_id, entity_type = check_name("id", entity_id), check_name("type", entity_type)
    try:
        state = await store.get_entity(tenant, entity_id)
    except NotFoundError:
        parsed = parse_temporal_attributes(tenant, entity_id, entity_type, body, clock)
        record = EntityRecord(tenant, entity_id, entity_type, parsed.static)
        await store.create_entity(record, parsed.readings, parsed.kept)
        location = f"/ngsi-ld/v1/temporal/entities/{quote(entity_id, safe=':')}"
        return Response(status_code=201, headers={"Location": location})
    if state.entity_type != entity_type:
        raise BadRequestError("the body's type differs from the entity's")
    current = render_entity(state, with_context=False)
    parsed = parse_temporal_attributes(tenant, entity_id, entity_type, body, clock, current)
    await store.append_attributes(
        tenant, entity_id, parsed.static, parsed.readings, kept=parsed.kept
    )
    return Response(status_code=204)


@router.post("/entities/{entity_id}/attrs", status_code=204, summary="Add attribute instances")
async def add_instances(
    entity_id: EntityIdPath,
    body: TemporalBody,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
) -> Response:
    state = await store.get_entity(tenant, entity_id)
    current = render_entity(state, with_context=False)
    parsed = parse_temporal_attributes(tenant, entity_id, state.entity_type, body, clock, current)
    await store.append_attributes(
        tenant, entity_id, parsed.static, parsed.readings, kept=parsed.kept
    )
    return Response(status_code=204)


@router.delete("/entities/{entity_id}", status_code=204, summary="Delete a temporal entity")
async def delete_temporal_entity(
    entity_id: EntityIdPath, store: StoreDep, tenant: TenantDep
) -> Response:
    await store.delete_entity(tenant, entity_id)
    return Response(status_code=204)


@router.delete(
    "/entities/{entity_id}/attrs/{attr}/{instance}",
    status_code=204,
    summary="Delete one instance of an attribute",
)
async def delete_attribute_instance(
    entity_id: EntityIdPath,
    attr: AttrPath,
    instance: Annotated[str, Path(description="instanceId from the temporal representation")],
    store: StoreDep,
    tenant: TenantDep,
) -> Response:
    """Roll-ups of the instance's day are recomputed; if it was the attribute's latest
    value, the one before becomes current."""
    observed_at = instance_time(instance)
    if observed_at is None:
        raise NotFoundError(f"no instance {instance!r:.80}")
    await store.delete_instance(tenant, entity_id, attr, observed_at)
    return Response(status_code=204)


@router.delete(
    "/entities/{entity_id}/attrs/{attr:path}",
    status_code=204,
    summary="Delete an attribute's history",
)
async def delete_attribute_history(
    entity_id: EntityIdPath, attr: AttrPath, store: StoreDep, tenant: TenantDep
) -> Response:
    await store.delete_attribute(tenant, entity_id, attr, with_history=True)
    return Response(status_code=204)
