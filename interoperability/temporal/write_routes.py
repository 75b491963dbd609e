"""NGSI-LD temporal provisioning: create or add history, delete it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Path, Query, Response

from acquisition import EntityRecord
from interoperability.auth.access import TenantDep
from interoperability.deps import (
    URI_PATTERN,
    AttrPath,
    BadRequestError,
    EntityIdPath,
    StoreDep,
    check_name,
    parse_time,
)
from interoperability.entities.body import parse_temporal_attributes
from interoperability.entities.instances import without_instance
from interoperability.entities.write_clock import WriteClockDep
from interoperability.ngsild import VALUE_MEMBER, instance_time, render_entity
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
    current = render_entity(state, with_context=False, sys_attrs=True, readings_too=False)
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
    current = render_entity(state, with_context=False, sys_attrs=True, readings_too=False)
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
    observed_at = _instance_time(instance)
    await store.delete_instance(tenant, entity_id, attr, observed_at)
    return Response(status_code=204)


@router.patch(
    "/entities/{entity_id}/attrs/{attr}/{instance}",
    status_code=204,
    summary="Modify one instance of an attribute",
)
async def modify_attribute_instance(
    entity_id: EntityIdPath,
    attr: AttrPath,
    instance: Annotated[str, Path(description="instanceId from the temporal representation")],
    body: Annotated[dict[str, Any], Body(description="The instance's new members")],
    store: StoreDep,
    tenant: TenantDep,
) -> Response:
    """NGSI-LD 5.6.16: the members given replace the instance's; a reading's new value
    recomputes its day's roll-ups (and the current state, if it is the current one)."""
    observed_at = _instance_time(instance)
    members = {k: v for k, v in body.items() if k not in ("@context", "instanceId")}
    if not members or members.get("type", "Property") not in VALUE_MEMBER:
        raise BadRequestError("the body must be the instance's new members (value...)")
    stated = members.pop("observedAt", None)
    if stated is not None and observed_at != parse_time("observedAt", stated):
        raise BadRequestError("an instance's observedAt is its identity: delete and add")
    await store.modify_instance(tenant, entity_id, attr, observed_at, members)
    return Response(status_code=204)


def _instance_time(instance: str) -> datetime:
    """The time an instanceId names: 400 for no URI at all, 404 for one this broker never
    gave (it names no instance here)."""
    if not re.match(URI_PATTERN, instance):
        raise BadRequestError(f"{instance!r:.80} is not an instanceId (a URI)")
    observed_at = instance_time(instance)
    if observed_at is None:
        raise NotFoundError(f"no instance {instance!r:.80}")
    return observed_at


@router.delete(
    "/entities/{entity_id}/attrs/{attr:path}",
    status_code=204,
    summary="Delete an attribute's history",
)
async def delete_attribute_history(
    entity_id: EntityIdPath,
    attr: AttrPath,
    store: StoreDep,
    tenant: TenantDep,
    dataset_id: Annotated[str | None, Query(alias="datasetId", max_length=256)] = None,
    delete_all: Annotated[bool, Query(alias="deleteAll")] = False,
) -> Response:
    """NGSI-LD 5.6.14: the default instance with its history, the one of ``datasetId``,
    or (``deleteAll``) every instance."""
    if delete_all:
        await store.delete_attribute(tenant, entity_id, attr, with_history=True)
        return Response(status_code=204)
    state = await store.get_entity(tenant, entity_id)
    current = render_entity(state, with_context=False, sys_attrs=True, readings_too=False).get(attr)
    found, remaining = without_instance(current, dataset_id) if current else (False, None)
    if found and remaining is None:
        await store.delete_attribute(tenant, entity_id, attr)
    elif found:
        await store.append_attributes(tenant, entity_id, {attr: remaining}, ())
    gone = await store.delete_instance_history(tenant, entity_id, attr, dataset_id)
    if not found and not gone:
        raise NotFoundError(f"{entity_id} has no such instance of {attr} (datasetId)")
    return Response(status_code=204)
