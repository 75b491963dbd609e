"""Commands to devices (the streetlight dimming use case): queue one, then follow it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from acquisition import Command, CommandQueue
from interoperability.api_state import api_state
from interoperability.auth.access import TenantDep
from interoperability.devices.routes import RegistryDep, own_device
from support import NotFoundError
from support.times import iso_utc

router = APIRouter(prefix="/ciudad/v1", tags=["commands"])


def get_commands(request: Request) -> CommandQueue:
    queue: CommandQueue = api_state(request).open().commands
    return queue


CommandsDep = Annotated[CommandQueue, Depends(get_commands)]


class CommandRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")
    value: Any = None
    timeout_s: float = Field(30.0, gt=0, le=86400)


def _render(command: Command) -> dict[str, Any]:
    def when(stamp: Any) -> str | None:
        return iso_utc(stamp) if stamp is not None else None

    return {
        "id": command.id,
        "device": f"{command.apikey}/{command.device_id}",
        "name": command.name,
        "value": command.value,
        "status": command.status,
        "result": command.result,
        "createdAt": when(command.created_at),
        "sentAt": when(command.sent_at),
        "doneAt": when(command.done_at),
        "expiresAt": when(command.expires_at),
    }


@router.post(
    "/devices/{apikey}/{device_id}/commands",
    status_code=202,
    summary="Queue a command; the gateway sends it and records the device's result",
)
async def send_command(
    apikey: str,
    device_id: str,
    body: CommandRequest,
    registry: RegistryDep,
    commands: CommandsDep,
    tenant: TenantDep,
) -> dict[str, Any]:
    record = await own_device(registry, tenant, apikey, device_id)
    if record.revoked:
        raise NotFoundError(f"device {apikey}/{device_id} is revoked")
    command = await commands.submit(
        tenant, apikey, device_id, body.name, body.value, body.timeout_s
    )
    return _render(command)


@router.get("/commands/{command_id}", summary="A command's status and result")
async def get_command(command_id: int, commands: CommandsDep, tenant: TenantDep) -> dict[str, Any]:
    command = await commands.get(command_id)
    if command.tenant != tenant:
        raise NotFoundError(f"command {command_id} not found")
    return _render(command)
