"""NGSI-LD entity writes: create, delete, append/update/delete attributes, batch operations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import JSONResponse

from interoperability.auth.access import TenantDep
from interoperability.deps import (
    AttrPath,
    BadRequestError,
    EntityIdPath,
    StoreDep,
    check_name,
)
from interoperability.entities.attribute_merge import Mode
from interoperability.entities.attribute_writes import WriteOutcome, write_attributes
from interoperability.entities.batch_context import Refusal, RefusedDep
from interoperability.entities.body import parse_attributes, parse_entity, parse_types
from interoperability.entities.instances import instances, without_instance
from interoperability.entities.soft_delete import deletion_records
from interoperability.entities.write_clock import WriteClockDep
from interoperability.ngsild import problem, render_entity
from support import AlreadyExistsError, NotFoundError

router = APIRouter(prefix="/ngsi-ld/v1", tags=["entities"])
MAX_BATCH = 1000
EntityBody = Annotated[dict[str, Any], Body(description="An NGSI-LD entity (normalized)")]
Fragment = Annotated[dict[str, Any], Body(description="NGSI-LD attributes")]
EntityList = Annotated[list[dict[str, Any]], Body(min_length=1, max_length=MAX_BATCH)]
IdList = Annotated[list[str], Body(min_length=1, max_length=MAX_BATCH)]


@router.post("/entities", status_code=201, summary="Create an entity")
async def create_entity(
    body: EntityBody, store: StoreDep, tenant: TenantDep, clock: WriteClockDep
) -> Response:
    entity, parsed = parse_entity(tenant, body, clock)
    await store.create_entity(entity, parsed.readings, parsed.kept)
    location = f"/ngsi-ld/v1/entities/{quote(entity.entity_id, safe=':')}"
    return Response(status_code=201, headers={"Location": location})


@router.delete("/entities/{entity_id}", status_code=204, summary="Delete an entity")
async def delete_entity(entity_id: EntityIdPath, store: StoreDep, tenant: TenantDep) -> Response:
    await store.delete_entity(tenant, entity_id)
    return Response(status_code=204)


def _answer(outcome: WriteOutcome) -> Response:
    """204, or 207 naming what was left alone (NGSI-LD 5.6.2, 5.6.3)."""
    if not outcome.not_updated:
        return Response(status_code=204)
    not_updated = [{"attributeName": n, "reason": why} for n, why in outcome.not_updated]
    return JSONResponse(
        {"updated": list(outcome.updated), "notUpdated": not_updated}, status_code=207
    )


@router.put("/entities/{entity_id}", status_code=204, summary="Replace an entity")
async def replace_entity(
    entity_id: EntityIdPath,
    body: EntityBody,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
) -> Response:
    state = await store.get_entity(tenant, entity_id)
    types = parse_types(body.get("type", state.entity_type))
    if body.get("id", entity_id) != entity_id or state.entity_type not in types:
        raise BadRequestError("the body's id or type differs from the entity's")
    parsed = parse_attributes(tenant, entity_id, state.entity_type, body, clock)
    others = tuple(t for t in types if t != state.entity_type)
    await store.append_attributes(
        tenant, entity_id, parsed.static, parsed.readings, True, others, parsed.kept
    )
    return Response(status_code=204)


@router.patch("/entities/{entity_id}", status_code=204, summary="Merge into an entity")
async def merge_entity(
    entity_id: EntityIdPath,
    body: EntityBody,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
) -> Response:
    """NGSI-LD 5.6.17: members given replace theirs, ``urn:ngsi-ld:null`` removes."""
    await write_attributes(store, tenant, entity_id, body, clock, "merge")
    return Response(status_code=204)


@router.patch("/entities/{entity_id}/attrs", summary="Update existing attributes")
async def update_attributes(
    entity_id: EntityIdPath,
    body: Fragment,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
) -> Response:
    """NGSI-LD 5.6.2: each instance given replaces the one of its datasetId; ``scope`` only
    if the entity has one (207 otherwise)."""
    outcome = await write_attributes(
        store, tenant, entity_id, body, clock, "replace", scope_only_if_present=True
    )
    return _answer(outcome)


@router.post("/entities/{entity_id}/attrs", status_code=204, summary="Append attributes")
async def append_attributes(
    entity_id: EntityIdPath,
    body: Fragment,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
    options: Annotated[str | None, Query(description="noOverwrite")] = None,
) -> Response:
    """NGSI-LD 5.6.3; with ``options=noOverwrite`` the instances the entity has stay (207
    names them) and ``scope`` gains the new scopes."""
    mode: Mode = "keep" if "noOverwrite" in (options or "").split(",") else "replace"
    return _answer(await write_attributes(store, tenant, entity_id, body, clock, mode))


@router.patch(
    "/entities/{entity_id}/attrs/{attr:path}", status_code=204, summary="Update one attribute"
)
async def update_attribute(
    entity_id: EntityIdPath,
    attr: AttrPath,
    body: Fragment,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
) -> Response:
    """Partial update (NGSI-LD 5.6.4): the members given replace theirs, the others (type,
    unitCode, sub-attributes) stay. ``observedAt`` is now unless given: a new value is a
    new observation of the attribute's history."""
    state = await store.get_entity(tenant, entity_id)
    current = render_entity(state, with_context=False).get(attr)
    dataset_id = body.get("datasetId")
    target = [i for i in instances(current) if i.get("datasetId") == dataset_id] if current else []
    if not target:
        raise NotFoundError(f"attribute {attr} (that instance) not found in {entity_id}")
    if body.get("type", target[0].get("type")) != target[0].get("type"):
        raise BadRequestError(
            f"attribute {attr} is a {target[0].get('type')}: a partial update cannot change "
            "its type (replace it instead)"
        )
    await write_attributes(store, tenant, entity_id, {attr: body}, clock, "merge", state=state)
    return Response(status_code=204)


@router.put(
    "/entities/{entity_id}/attrs/{attr:path}", status_code=204, summary="Replace one attribute"
)
async def replace_attribute(
    entity_id: EntityIdPath,
    attr: AttrPath,
    body: Fragment,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
) -> Response:
    """NGSI-LD 5.6.19: the instance of the body's datasetId becomes the one given, whole
    (its creation time and history stay)."""
    state = await store.get_entity(tenant, entity_id)
    if attr not in state.static and attr not in {a.name for a in state.attributes}:
        raise NotFoundError(f"attribute {attr} not found in {entity_id}")
    await write_attributes(store, tenant, entity_id, {attr: body}, clock, "replace", state=state)
    return Response(status_code=204)


@router.delete(
    "/entities/{entity_id}/attrs/{attr:path}", status_code=204, summary="Delete one attribute"
)
async def delete_attribute(
    entity_id: EntityIdPath,
    attr: AttrPath,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
    dataset_id: Annotated[str | None, Query(alias="datasetId")] = None,
    delete_all: Annotated[bool, Query(alias="deleteAll")] = False,
) -> Response:
    """NGSI-LD 5.6.5: the default instance, the one of ``datasetId``, or all of them; the
    temporal evolution keeps a record of each deletion (soft deletion, 1.8)."""
    state = await store.get_entity(tenant, entity_id)
    if attr == "scope" and "scope" in state.static:
        delete_all = True
    current = render_entity(state, with_context=False).get(attr)
    gone = deletion_records(attr, current, None if delete_all else [dataset_id], clock.now)
    if attr in state.static and not delete_all:
        found, remaining = without_instance(state.static[attr], dataset_id)
        if not found:
            raise NotFoundError(f"{entity_id} has no instance of {attr} with that datasetId")
        if remaining is not None:
            await store.append_attributes(tenant, entity_id, {attr: remaining}, (), kept=gone)
            return Response(status_code=204)
    elif attr not in state.static and (dataset_id is not None or attr not in {
        a.name for a in state.attributes
    }):  # fmt: skip
        raise NotFoundError(f"attribute {attr} not found in {entity_id}")
    await store.delete_attribute(tenant, entity_id, attr, deleted=gone)
    return Response(status_code=204)


BatchStep = Callable[[Any], Awaitable[str]]


class LeftAloneError(Exception):
    """An entity of a ``noOverwrite`` batch update whose given attributes (some or all)
    were left as they were: reported among the batch's errors (NGSI-LD 5.6.9)."""

    def __init__(self, outcome: WriteOutcome) -> None:
        names = ", ".join(f"{n} ({why})" for n, why in outcome.not_updated)
        super().__init__(f"not updated: {names}"[:500])


def _refused(item: Any, why: Refusal) -> dict[str, Any]:
    """A batch entity refused for its @context, as a 207 error."""
    title = "LD context not available" if why.status == 503 else "Bad request"
    error = {**problem(why.error_type, title, why.reason), "status": why.status}
    return {"entityId": item.get("id") if isinstance(item, dict) else item, "error": error}


async def _batch(
    items: list[Any], step: BatchStep, success_status: int, refused: Mapping[int, Refusal] = {}
) -> Response:
    """Runs ``step`` per item but those ``refused`` (their @context, 6.3.5); 207 with
    per-entity results if any failed (NGSI-LD 5.6.7)."""
    success: list[str] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            if index in refused:
                errors.append(_refused(item, refused[index]))
                continue
            success.append(await step(item))
        except (BadRequestError, AlreadyExistsError, NotFoundError, LeftAloneError) as exc:
            kind = {
                AlreadyExistsError: ("AlreadyExists", "Already exists", 409),
                NotFoundError: ("ResourceNotFound", "Resource not found", 404),
                LeftAloneError: ("BadRequestData", "Attributes not updated", 400),
            }.get(type(exc), ("BadRequestData", "Bad request", 400))
            entity_id = item.get("id") if isinstance(item, dict) else item
            error = {**problem(kind[0], kind[1], str(exc)), "status": kind[2]}
            errors.append({"entityId": entity_id, "error": error})
    if errors:
        return JSONResponse({"success": success, "errors": errors}, status_code=207)
    if success_status == 204:
        return Response(status_code=204)
    return JSONResponse(success, status_code=success_status)


@router.post("/entityOperations/create", summary="Create entities in batch")
async def batch_create(
    body: EntityList, store: StoreDep, tenant: TenantDep, clock: WriteClockDep, refused: RefusedDep
) -> Response:
    async def create(item: Any) -> str:
        entity, parsed = parse_entity(tenant, item, clock)
        await store.create_entity(entity, parsed.readings, parsed.kept)
        return entity.entity_id

    return await _batch(body, create, 201, refused)


@router.post("/entityOperations/upsert", summary="Create or update entities in batch")
async def batch_upsert(
    body: EntityList,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
    refused: RefusedDep,
    options: Annotated[Literal["replace", "update"], Query()] = "replace",
) -> Response:
    """NGSI-LD 5.6.8: an existing entity's attributes are all replaced (``options=replace``,
    the default) or the given ones updated; 201 lists the entities created, 204 if none."""
    created: list[str] = []

    async def upsert(item: Any) -> str:
        entity, parsed = parse_entity(tenant, item, clock)
        try:
            await store.create_entity(entity, parsed.readings, parsed.kept)
            created.append(entity.entity_id)
        except AlreadyExistsError:
            if options == "replace":
                await store.append_attributes(
                    tenant, entity.entity_id, parsed.static, parsed.readings, True,
                    entity.other_types, parsed.kept,
                )  # fmt: skip
            else:
                await write_attributes(store, tenant, entity.entity_id, item, clock, "replace")
        return entity.entity_id

    answer = await _batch(body, upsert, 204, refused)
    return (
        JSONResponse(created, status_code=201) if answer.status_code == 204 and created else answer
    )


@router.post("/entityOperations/update", summary="Update existing entities in batch")
async def batch_update(
    body: EntityList,
    store: StoreDep,
    tenant: TenantDep,
    clock: WriteClockDep,
    refused: RefusedDep,
    options: Annotated[str | None, Query(description="noOverwrite")] = None,
) -> Response:
    """NGSI-LD 5.6.9: each entity's attributes appended as by POST .../attrs; with
    ``noOverwrite`` an entity with attributes left alone is among the errors."""
    mode: Mode = "keep" if "noOverwrite" in (options or "").split(",") else "replace"

    async def update(item: Any) -> str:
        entity, _ = parse_entity(tenant, item, clock)
        outcome = await write_attributes(store, tenant, entity.entity_id, item, clock, mode)
        if outcome.not_updated:
            raise LeftAloneError(outcome)
        return entity.entity_id

    return await _batch(body, update, 204, refused)


@router.post("/entityOperations/merge", summary="Merge into existing entities in batch")
async def batch_merge(
    body: EntityList, store: StoreDep, tenant: TenantDep, clock: WriteClockDep, refused: RefusedDep
) -> Response:
    """NGSI-LD 5.6.20: each entity merged as by PATCH /entities/{id} (404 per entity that
    does not exist, ``urn:ngsi-ld:null`` removes)."""

    async def merge(item: Any) -> str:
        entity, _ = parse_entity(tenant, item, clock)
        await write_attributes(store, tenant, entity.entity_id, item, clock, "merge")
        return entity.entity_id

    return await _batch(body, merge, 204, refused)


@router.post("/entityOperations/delete", summary="Delete entities in batch")
async def batch_delete(body: IdList, store: StoreDep, tenant: TenantDep) -> Response:
    async def delete(entity_id: Any) -> str:
        await store.delete_entity(tenant, check_name("id", entity_id))
        return str(entity_id)

    return await _batch(body, delete, 204)
