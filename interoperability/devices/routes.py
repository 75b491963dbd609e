"""Device registry management: service groups and devices (platform extension, not NGSI-LD)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import TypeAdapter, ValidationError

from acquisition import (
    DeviceEntry,
    DeviceRecord,
    DeviceRegistry,
    ServiceGroupEntry,
    broker_username,
    devices_to_csv,
    generate_password,
    mosquitto_password_hash,
    parse_devices_csv,
)
from interoperability.api_state import api_state
from interoperability.auth.access import AdminTenantDep, AuditDep
from interoperability.deps import BadRequestError
from support import NotFoundError

router = APIRouter(prefix="/ciudad/v1", tags=["device registry"])


def get_registry(request: Request) -> DeviceRegistry:
    registry: DeviceRegistry = api_state(request).open().registry
    return registry


RegistryDep = Annotated[DeviceRegistry, Depends(get_registry)]


def _record(record: DeviceRecord) -> dict[str, Any]:
    return record.entry.model_dump(mode="json") | {
        "tenant": record.tenant,
        "revoked": record.revoked,
        "has_credentials": record.has_credentials,
    }


async def _tenant_apikeys(registry: DeviceRegistry, tenant: str) -> set[str]:
    return {g.apikey for g in await registry.groups() if g.tenant == tenant}


async def own_device(
    registry: DeviceRegistry, tenant: str, apikey: str, device_id: str
) -> DeviceRecord:
    record = await registry.device(apikey, device_id)
    if record.tenant != tenant:  # another tenant's device does not exist for this one
        raise NotFoundError(f"device {apikey}/{device_id} not found")
    return record


@router.get("/service-groups", summary="The tenant's service groups")
async def list_groups(registry: RegistryDep, tenant: AdminTenantDep) -> list[dict[str, str]]:
    return [g.model_dump() for g in await registry.groups() if g.tenant == tenant]


@router.post("/service-groups", status_code=201, summary="Create or update a service group")
async def put_group(
    group: ServiceGroupEntry, registry: RegistryDep, tenant: AdminTenantDep, audit: AuditDep
) -> None:
    if group.tenant != tenant:
        raise BadRequestError(f"a group of tenant {group.tenant} cannot be created as {tenant}")
    existing = {g.apikey: g.tenant for g in await registry.groups()}
    if existing.get(group.apikey, tenant) != tenant:
        raise BadRequestError(f"apikey {group.apikey} belongs to another tenant")
    await registry.put_group(group)
    await audit(tenant, "group.put", group.apikey)


@router.delete("/service-groups/{apikey}", status_code=204, summary="Delete an empty group")
async def delete_group(
    apikey: str, registry: RegistryDep, tenant: AdminTenantDep, audit: AuditDep
) -> None:
    if apikey not in await _tenant_apikeys(registry, tenant):
        raise NotFoundError(f"service group {apikey} not found")
    await registry.delete_group(apikey)
    await audit(tenant, "group.delete", apikey)


@router.get("/devices", summary="The tenant's devices (JSON, or CSV with ?format=csv)")
async def list_devices(
    registry: RegistryDep, tenant: AdminTenantDep, format: str = "json"
) -> Response:
    records = await registry.devices(tenant)
    if format == "csv":
        return PlainTextResponse(devices_to_csv(r.entry for r in records), media_type="text/csv")
    if format != "json":
        raise BadRequestError("format must be json or csv")
    return JSONResponse([_record(r) for r in records])


@router.post("/devices", status_code=201, summary="Create or replace devices (JSON list or CSV)")
async def put_devices(
    request: Request, registry: RegistryDep, tenant: AdminTenantDep, audit: AuditDep
) -> dict[str, int]:
    body = (await request.body()).decode("utf-8", "replace")
    if request.headers.get("content-type", "").startswith("text/csv"):
        entries = parse_devices_csv(body)
    else:
        try:
            entries = TypeAdapter(list[DeviceEntry]).validate_json(body)
        except ValidationError as exc:
            raise BadRequestError(str(exc)) from None
    allowed = await _tenant_apikeys(registry, tenant)
    foreign = sorted({e.apikey for e in entries} - allowed)
    if foreign:
        raise BadRequestError(f"apikeys not in tenant {tenant}: {', '.join(foreign)}")
    count = await registry.put_devices(entries)
    await audit(
        tenant,
        "devices.put",
        f"{count} devices",
        devices=[f"{e.apikey}/{e.device_id}" for e in entries[:100]],
    )
    return {"count": count}


@router.get("/devices/{apikey}/{device_id}", summary="One device")
async def get_device(
    apikey: str, device_id: str, registry: RegistryDep, tenant: AdminTenantDep
) -> dict[str, Any]:
    return _record(await own_device(registry, tenant, apikey, device_id))


@router.delete("/devices/{apikey}/{device_id}", status_code=204, summary="Remove a device")
async def delete_device(
    apikey: str,
    device_id: str,
    registry: RegistryDep,
    tenant: AdminTenantDep,
    audit: AuditDep,
) -> None:
    await own_device(registry, tenant, apikey, device_id)
    await registry.delete_device(apikey, device_id)
    await audit(tenant, "device.delete", f"{apikey}/{device_id}")


@router.post("/devices/{apikey}/{device_id}/revoke", status_code=204, summary="Revoke a device")
async def revoke_device(
    apikey: str,
    device_id: str,
    registry: RegistryDep,
    tenant: AdminTenantDep,
    audit: AuditDep,
) -> None:
    await own_device(registry, tenant, apikey, device_id)
    await registry.revoke(apikey, device_id)
    await audit(tenant, "device.revoke", f"{apikey}/{device_id}")


@router.post(
    "/devices/{apikey}/{device_id}/credentials",
    status_code=201,
    summary="New broker credentials; the password is shown only in this response",
)
async def new_credentials(
    apikey: str,
    device_id: str,
    registry: RegistryDep,
    tenant: AdminTenantDep,
    audit: AuditDep,
) -> dict[str, str]:
    await own_device(registry, tenant, apikey, device_id)
    await audit(tenant, "device.credentials", f"{apikey}/{device_id}")
    password = generate_password()
    await registry.set_password_hash(apikey, device_id, mosquitto_password_hash(password))
    return {"username": broker_username(apikey, device_id), "password": password}
