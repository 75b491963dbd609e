"""Commands downlink: queue in PostgreSQL, publish on /cmd, correlate /cmdexe, time out.

Lifecycle: PENDING (queued, e.g. by the API) -> SENT (published to the device)
-> OK or ERROR (the device's result on /cmdexe) or EXPIRED (no result in
time). A result is matched to the oldest SENT command of that name for that
device, as the IoT Agent does. The status also appears on the device's entity
as ``<name>_status`` and ``<name>_info``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from psycopg.types.json import Jsonb

from acquisition.normalise.decoding import parse_measure_topic
from acquisition.provisioning.model import Device, Provisioning
from acquisition.records import Reading, ValueType
from support import NotFoundError, PayloadError
from support.store import Database

CHANNEL = "ciudad_commands"
RESULT_SUFFIX = "/cmdexe"

_COLUMNS = (
    "id, tenant, apikey, device_id, name, value, status, result, created_at, sent_at, done_at, "
    "expires_at"
)


class CommandStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    OK = "OK"
    ERROR = "ERROR"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class Command:
    id: int
    tenant: str
    apikey: str
    device_id: str
    name: str
    value: Any
    status: CommandStatus
    result: str | None
    created_at: datetime
    sent_at: datetime | None
    done_at: datetime | None
    expires_at: datetime

    def payload(self) -> bytes:
        """What the device receives on /cmd: one JSON object with one key."""
        return json.dumps({self.name: self.value}, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A device's answer on /cmdexe, decoded."""

    device: Device
    name: str
    result: str
    received_at: datetime
    # Set when the result names its command (LoRaWAN downlink events), which is then
    # completed by id; None: the oldest SENT command of that name, as the IoT Agent does.
    command_id: int | None = None

    @property
    def status(self) -> CommandStatus:
        return (
            CommandStatus.ERROR if self.result.upper().startswith("ERROR") else (CommandStatus.OK)
        )


def parse_result(
    provisioning: Provisioning, topic: str, payload: bytes, received_at: datetime
) -> CommandResult:
    """``/json/<apikey>/<device>/cmdexe`` with ``{"dim": "OK 40"}``; PayloadError otherwise."""
    address = parse_measure_topic(topic[: -len(RESULT_SUFFIX)] + "/attrs")
    device = provisioning.lookup(address.apikey, address.device_id)
    try:
        body = json.loads(payload)
    except ValueError:
        raise PayloadError("bad_json", "command result is not JSON") from None
    if not isinstance(body, dict) or len(body) != 1:
        raise PayloadError("bad_shape", "a command result is one object with one key")
    ((name, result),) = body.items()
    return CommandResult(device, str(name), str(result), received_at)


def status_readings(
    device: Device, name: str, status: CommandStatus, info: str | None, at: datetime
) -> list[Reading]:
    """``<name>_status`` and ``<name>_info`` on the device's entity (IoT Agent convention)."""
    readings = [
        Reading(
            device.tenant,
            device.entity_id,
            device.entity_type.type_name,
            f"{name}_status",
            at,
            status.value,
            ValueType.TEXT,
        )
    ]
    if info is not None:
        readings.append(
            Reading(
                device.tenant,
                device.entity_id,
                device.entity_type.type_name,
                f"{name}_info",
                at,
                info,
                ValueType.TEXT,
            )
        )
    return readings


class CommandQueue:
    """The ciudad_commands table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def submit(
        self, tenant: str, apikey: str, device_id: str, name: str, value: Any, timeout_s: float
    ) -> Command:
        expires = datetime.now(UTC) + timedelta(seconds=timeout_s)
        async with self._db.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO ciudad_commands (tenant, apikey, device_id, name, value, expires_at) "
                f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                (tenant, apikey, device_id, name, Jsonb(value), expires),
            )
            row = await cur.fetchone()
            await conn.execute(f"NOTIFY {CHANNEL}")
        assert row is not None  # RETURNING always yields the inserted row
        return Command(*row)

    async def get(self, command_id: int) -> Command:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM ciudad_commands WHERE id = %s", (command_id,)
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"command {command_id} not found")
        return Command(*row)

    async def _transition(self, sql: str, params: tuple[Any, ...]) -> list[Command]:
        async with self._db.connection() as conn, conn.transaction():
            cur = await conn.execute(sql + f" RETURNING {_COLUMNS}", params)
            return [Command(*row) for row in await cur.fetchall()]

    async def take_pending(self) -> list[Command]:
        """Marks every live PENDING command SENT and returns them, oldest first."""
        sent = await self._transition(
            "UPDATE ciudad_commands SET status = 'SENT', sent_at = now() "
            "WHERE status = 'PENDING' AND expires_at > now()",
            (),
        )
        return sorted(sent, key=lambda c: c.id)

    async def complete(self, result: CommandResult) -> Command | None:
        device = result.device
        if result.command_id is not None:
            done = await self._transition(
                "UPDATE ciudad_commands SET status = %s, result = %s, done_at = %s "
                "WHERE id = %s AND apikey = %s AND device_id = %s AND status = 'SENT'",
                (
                    result.status.value,
                    result.result,
                    result.received_at,
                    result.command_id,
                    device.apikey,
                    device.device_id,
                ),
            )
            return done[0] if done else None
        done = await self._transition(
            "UPDATE ciudad_commands SET status = %s, result = %s, done_at = %s WHERE id = ("
            "SELECT id FROM ciudad_commands WHERE apikey = %s AND device_id = %s AND name = %s "
            "AND status = 'SENT' ORDER BY id LIMIT 1)",
            (
                result.status.value,
                result.result,
                result.received_at,
                device.apikey,
                device.device_id,
                result.name,
            ),
        )
        return done[0] if done else None

    async def expire(self) -> list[Command]:
        return await self._transition(
            "UPDATE ciudad_commands SET status = 'EXPIRED', done_at = now() "
            "WHERE status IN ('PENDING', 'SENT') AND expires_at <= now()",
            (),
        )
