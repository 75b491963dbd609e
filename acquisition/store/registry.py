"""The device registry in PostgreSQL: service groups, devices, credentials, revocation.

Every change sends ``NOTIFY ciudad_registry`` so running gateways reload at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from acquisition.provisioning.model import (
    DeviceEntry,
    Provisioning,
    ProvisioningFile,
    ServiceGroupEntry,
    parse_provisioning,
)
from support import ConfigurationError, NotFoundError
from support.store import Database

CHANNEL = "ciudad_registry"

_DEVICE_COLUMNS = (
    "device_id, apikey, entity_type, entity_id, period_s, attributes, static_attributes, lorawan"
)


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A registered device with its registry-only fields."""

    entry: DeviceEntry
    tenant: str
    revoked: bool
    has_credentials: bool


@dataclass(frozen=True, slots=True)
class Credential:
    """Broker credentials of one registered, non-revoked device."""

    apikey: str
    device_id: str
    password_hash: str

    @property
    def username(self) -> str:
        return broker_username(self.apikey, self.device_id)


def broker_username(apikey: str, device_id: str) -> str:
    # apikeys cannot contain "." (provisioning.py), so the split is unambiguous.
    return f"{apikey}.{device_id}"


def _entry(row: Sequence[Any]) -> DeviceEntry:
    fields = dict(zip(_DEVICE_COLUMNS.split(", "), row, strict=True))
    return DeviceEntry.model_validate({k: v for k, v in fields.items() if v is not None})


class DeviceRegistry:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _notify(self, conn: AsyncConnection[Any]) -> None:
        await conn.execute(f"NOTIFY {CHANNEL}")

    # ---- service groups ------------------------------------------------------------------
    async def put_group(self, group: ServiceGroupEntry) -> None:
        async with self._db.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO ciudad_service_groups (apikey, tenant) VALUES (%s, %s) "
                "ON CONFLICT (apikey) DO UPDATE SET tenant = excluded.tenant",
                (group.apikey, group.tenant),
            )
            await self._notify(conn)

    async def groups(self) -> list[ServiceGroupEntry]:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT apikey, tenant FROM ciudad_service_groups ORDER BY apikey"
            )
            return [ServiceGroupEntry(apikey=a, tenant=t) for a, t in await cur.fetchall()]

    async def delete_group(self, apikey: str) -> None:
        async with self._db.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT count(*) FROM ciudad_devices WHERE apikey = %s", (apikey,)
            )
            row = await cur.fetchone()
            if row and row[0]:
                raise ConfigurationError(f"service group {apikey} still has {row[0]} devices")
            cur = await conn.execute(
                "DELETE FROM ciudad_service_groups WHERE apikey = %s", (apikey,)
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"service group {apikey} not found")
            await self._notify(conn)

    # ---- devices -------------------------------------------------------------------------
    async def put_devices(self, entries: Sequence[DeviceEntry]) -> int:
        """Creates or replaces devices (keeping their credentials); all or none."""
        tenants = {g.apikey: g.tenant for g in await self.groups()}
        # Validates types, apikeys and attribute maps exactly as the gateway will.
        parse_provisioning(
            ProvisioningFile(
                service_groups=[ServiceGroupEntry(apikey=k, tenant=t) for k, t in tenants.items()],
                devices=list(entries),
            ).model_dump(mode="json")
        )
        try:
            await self._write_devices(entries)
        except UniqueViolation as exc:  # a devEUI another registered device already has
            raise ConfigurationError(
                f"devEUI already registered: {exc.diag.message_detail}"
            ) from None
        return len(entries)

    async def _write_devices(self, entries: Sequence[DeviceEntry]) -> None:
        async with self._db.connection() as conn, conn.transaction():
            async with conn.cursor() as cur:
                await cur.executemany(
                    f"INSERT INTO ciudad_devices ({_DEVICE_COLUMNS}) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (apikey, device_id) DO UPDATE SET "
                    "entity_type = excluded.entity_type, entity_id = excluded.entity_id, "
                    "period_s = excluded.period_s, attributes = excluded.attributes, "
                    "static_attributes = excluded.static_attributes, lorawan = excluded.lorawan, "
                    "updated_at = now()",
                    [_device_row(e) for e in entries],
                )
            await self._notify(conn)

    async def _select_devices(self, where: str, params: tuple[Any, ...]) -> list[DeviceRecord]:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT d.device_id, d.apikey, d.entity_type, d.entity_id, d.period_s, "
                "d.attributes, d.static_attributes, d.lorawan, g.tenant, d.revoked, "
                "d.password_hash IS NOT NULL FROM ciudad_devices d "
                f"JOIN ciudad_service_groups g USING (apikey) {where} "
                "ORDER BY d.apikey, d.device_id",
                params,
            )
            return [
                DeviceRecord(_entry(row[:8]), row[8], row[9], row[10])
                for row in await cur.fetchall()
            ]

    async def devices(self, tenant: str | None = None) -> list[DeviceRecord]:
        if tenant is None:
            return await self._select_devices("", ())
        return await self._select_devices("WHERE g.tenant = %s", (tenant,))

    async def device(self, apikey: str, device_id: str) -> DeviceRecord:
        found = await self._select_devices(
            "WHERE d.apikey = %s AND d.device_id = %s", (apikey, device_id)
        )
        if not found:
            raise NotFoundError(f"device {apikey}/{device_id} not found")
        return found[0]

    async def _update_device(self, apikey: str, device_id: str, sql: str, *args: Any) -> None:
        async with self._db.connection() as conn, conn.transaction():
            cur = await conn.execute(
                f"UPDATE ciudad_devices SET {sql}, updated_at = now() "
                "WHERE apikey = %s AND device_id = %s",
                (*args, apikey, device_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"device {apikey}/{device_id} not found")
            await self._notify(conn)

    async def revoke(self, apikey: str, device_id: str) -> None:
        """The device is refused by the gateway and loses its broker credentials."""
        await self._update_device(apikey, device_id, "revoked = true, password_hash = NULL")

    async def set_password_hash(self, apikey: str, device_id: str, password_hash: str) -> None:
        await self._update_device(
            apikey, device_id, "password_hash = %s, revoked = false", password_hash
        )

    async def delete_device(self, apikey: str, device_id: str) -> None:
        async with self._db.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM ciudad_devices WHERE apikey = %s AND device_id = %s",
                (apikey, device_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"device {apikey}/{device_id} not found")
            await self._notify(conn)

    async def credentials(self) -> list[Credential]:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT apikey, device_id, password_hash FROM ciudad_devices "
                "WHERE NOT revoked AND password_hash IS NOT NULL ORDER BY apikey, device_id"
            )
            return [Credential(*row) for row in await cur.fetchall()]

    # ---- whole documents -----------------------------------------------------------------
    async def import_document(self, document: ProvisioningFile) -> int:
        for group in document.service_groups:
            await self.put_group(group)
        return await self.put_devices(document.devices)

    async def provisioning(self) -> Provisioning:
        """What the gateway accepts: every group and every device not revoked."""
        groups = await self.groups()
        devices = [r.entry for r in await self.devices() if not r.revoked]
        return parse_provisioning(
            ProvisioningFile(service_groups=groups, devices=devices).model_dump(mode="json")
        )


def _device_row(entry: DeviceEntry) -> tuple[Any, ...]:
    attributes = (
        None
        if entry.attributes is None
        else Jsonb([a.model_dump(mode="json") for a in entry.attributes])
    )
    return (
        entry.device_id,
        entry.apikey,
        entry.entity_type,
        entry.entity_id,
        entry.period_s,
        attributes,
        Jsonb(json.loads(json.dumps(entry.static_attributes))),
        None if entry.lorawan is None else Jsonb(entry.lorawan.model_dump(mode="json")),
    )
