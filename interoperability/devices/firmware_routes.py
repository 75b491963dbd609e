"""Firmware updates over the air: bundles and roll-outs (admin scope, platform extension).

A bundle is uploaded as the file ``ciudad firmware build`` wrote (JSON); it is verified
(manifest, hashes, signature) before it is stored. A roll-out targets one device, a
service group, or a percentage of a group, and can be paused, resumed and aborted; its
per-device status is what the gateway's OTA service recorded from the nodes' reports.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from acquisition import (
    MAX_BUNDLE_FILE_BYTES,
    ROLLOUT_ACTIONS,
    BundleInfo,
    OtaStore,
    Rollout,
    RolloutTarget,
    decode_bundle,
    start_rollout,
)
from interoperability.api_state import api_state
from interoperability.auth.access import AdminTenantDep, AuditDep
from interoperability.devices.routes import RegistryDep
from interoperability.ngsild import problem
from support.times import iso_utc

router = APIRouter(prefix="/ciudad/v1/firmware", tags=["firmware updates"])


def get_ota(request: Request) -> OtaStore:
    return OtaStore(api_state(request).open().database)


OtaDep = Annotated[OtaStore, Depends(get_ota)]
MAX_ID = 2**63 - 1  # the tables' bigint ids
RolloutId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of a roll-out")]
ListLimit = Annotated[int, Query(ge=1, le=1000, description="at most this many, newest")]


class RolloutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bundle: int = Field(ge=1, le=MAX_ID, description="Id of an uploaded bundle")
    apikey: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    device_id: str | None = Field(
        None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="one device"
    )
    percent: float = Field(100.0, gt=0, le=100, description="share of the group (staged)")


def _bundle(info: BundleInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "node": info.node,
        "version": info.version,
        "minBoot": info.min_boot,
        "sha256": info.sha256,
        "size": info.size,
        "createdAt": iso_utc(info.created_at),
    }


def _rollout(rollout: Rollout, devices: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rollout.id,
        "bundle": rollout.bundle_id,
        "updateId": rollout.update_id,
        "target": rollout.target,
        "state": rollout.state.value,
        "reason": rollout.reason,
        "createdAt": iso_utc(rollout.created_at),
        "updatedAt": iso_utc(rollout.updated_at),
    }
    if devices:
        body["devices"] = [
            {
                "device": f"{d.apikey}/{d.device_id}",
                "state": d.state.value,
                "reason": d.reason,
                "progress": round(d.progress, 3),
                "version": d.version,
                "updatedAt": iso_utc(d.updated_at),
            }
            for d in rollout.devices
        ]
    return body


@router.post("/bundles", status_code=201, summary="Upload a signed firmware bundle")
async def upload_bundle(
    request: Request, ota: OtaDep, tenant: AdminTenantDep, audit: AuditDep
) -> JSONResponse:
    data = await request.body()  # bounded by the door (CIUDAD_API_MAX_BODY_BYTES) already
    if len(data) > MAX_BUNDLE_FILE_BYTES:
        detail = f"a bundle file is at most {MAX_BUNDLE_FILE_BYTES} bytes"
        body = problem("RequestEntityTooLarge", "Request entity too large", detail)
        return JSONResponse(dict(body), status_code=413)
    bundle = decode_bundle(data)  # BundleError (400) says what is wrong
    info = await ota.put_bundle(tenant, bundle, data)
    await audit(tenant, "firmware.upload", f"bundle {info.id}", version=info.version)
    return JSONResponse(_bundle(info), status_code=201)


@router.get("/bundles", summary="The tenant's newest firmware bundles")
async def list_bundles(
    ota: OtaDep, tenant: AdminTenantDep, limit: ListLimit = 100
) -> list[dict[str, Any]]:
    return [_bundle(b) for b in await ota.bundles(tenant, limit)]


@router.post("/rollouts", status_code=201, summary="Start a roll-out (device, group or share)")
async def create_rollout(
    body: RolloutRequest,
    ota: OtaDep,
    registry: RegistryDep,
    tenant: AdminTenantDep,
    audit: AuditDep,
) -> dict[str, Any]:
    target = RolloutTarget(body.apikey, body.device_id, body.percent)
    rollout = await start_rollout(ota, registry, tenant, body.bundle, target)
    await audit(tenant, "firmware.rollout", f"rollout {rollout.id}", **target.describe())
    return _rollout(rollout)


@router.get("/rollouts", summary="The tenant's newest roll-outs")
async def list_rollouts(
    ota: OtaDep, tenant: AdminTenantDep, limit: ListLimit = 100
) -> list[dict[str, Any]]:
    return [_rollout(r, devices=False) for r in await ota.rollouts(tenant, limit)]


@router.get("/rollouts/{rollout_id}", summary="A roll-out and each device's update status")
async def get_rollout(rollout_id: RolloutId, ota: OtaDep, tenant: AdminTenantDep) -> dict[str, Any]:
    return _rollout(await ota.rollout(tenant, rollout_id))


async def _change(
    action: str, rollout_id: int, ota: OtaStore, tenant: str, audit: AuditDep
) -> dict[str, Any]:
    to, allowed = ROLLOUT_ACTIONS[action]
    rollout = await ota.change_rollout(tenant, rollout_id, to, allowed)
    await audit(tenant, f"firmware.{action}", f"rollout {rollout_id}")
    return _rollout(rollout)


@router.post("/rollouts/{rollout_id}/pause", summary="Pause: no more starts or chunks")
async def pause_rollout(
    rollout_id: RolloutId, ota: OtaDep, tenant: AdminTenantDep, audit: AuditDep
) -> dict[str, Any]:
    return await _change("pause", rollout_id, ota, tenant, audit)


@router.post("/rollouts/{rollout_id}/resume", summary="Resume a paused or halted roll-out")
async def resume_rollout(
    rollout_id: RolloutId, ota: OtaDep, tenant: AdminTenantDep, audit: AuditDep
) -> dict[str, Any]:
    return await _change("resume", rollout_id, ota, tenant, audit)


@router.post("/rollouts/{rollout_id}/abort", summary="Abort: nodes drop their staged update")
async def abort_rollout(
    rollout_id: RolloutId, ota: OtaDep, tenant: AdminTenantDep, audit: AuditDep
) -> dict[str, Any]:
    return await _change("abort", rollout_id, ota, tenant, audit)
