"""Firmware updates in PostgreSQL: bundles, roll-outs and each target device's state.

A roll-out is ``active`` (starts and chunks are sent), ``paused`` or ``halted`` (nothing
is sent: nodes keep their progress and ask again later), ``aborted`` (nodes are told to
drop their staging) or ``completed`` (every target reached a final state).
It halts by itself when a target reports ``failed`` or ``rolled_back``. Every change
sends ``NOTIFY ciudad_ota`` so the gateways' OTA services act at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from acquisition.ota.bundle import Bundle
from acquisition.ota.protocol import DeviceState, Report
from support import ConfigurationError, NotFoundError
from support.store import Database

OTA_CHANNEL = "ciudad_ota"
_BUNDLE_COLUMNS = "id, tenant, node, version, min_boot, sha256, size, created_at"
_ROLLOUT_COLUMNS = "id, tenant, bundle_id, update_id, target, state, reason, created_at, updated_at"
_DEVICE_COLUMNS = "apikey, device_id, state, reason, progress, version, updated_at"
_OPEN = ("active", "paused", "halted")
_FINAL = tuple(s.value for s in DeviceState if s.final)


class RolloutState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    HALTED = "halted"
    ABORTED = "aborted"
    COMPLETED = "completed"


# What an operator may do to a roll-out: the state it goes to, from the states allowed.
ROLLOUT_ACTIONS = {
    "pause": (RolloutState.PAUSED, (RolloutState.ACTIVE,)),
    "resume": (RolloutState.ACTIVE, (RolloutState.PAUSED, RolloutState.HALTED)),
    "abort": (
        RolloutState.ABORTED,
        (RolloutState.ACTIVE, RolloutState.PAUSED, RolloutState.HALTED),
    ),
}


@dataclass(frozen=True, slots=True)
class BundleInfo:
    id: int
    tenant: str
    node: str
    version: str
    min_boot: int
    sha256: str
    size: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TargetStatus:
    apikey: str
    device_id: str
    state: DeviceState
    reason: str | None
    progress: float
    version: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Rollout:
    id: int
    tenant: str
    bundle_id: int
    update_id: str
    target: dict[str, Any]
    state: RolloutState
    reason: str | None
    created_at: datetime
    updated_at: datetime
    devices: tuple[TargetStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the OTA service needs to answer one device of one roll-out."""

    rollout_id: int
    rollout_state: RolloutState
    bundle_id: int
    update_id: str
    apikey: str
    device_id: str
    state: DeviceState


def _rollout(row: Sequence[Any], devices: tuple[TargetStatus, ...] = ()) -> Rollout:
    rollout_id, tenant, bundle_id, update_id, target, state, reason, created, updated = row
    return Rollout(
        rollout_id,
        tenant,
        bundle_id,
        update_id,
        target,
        RolloutState(state),
        reason,
        created,
        updated,
        devices,
    )


class OtaStore:
    """The ciudad_ota_* tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- bundles -------------------------------------------------------------------------
    async def put_bundle(self, tenant: str, bundle: Bundle, data: bytes) -> BundleInfo:
        """Stores a verified bundle (its file bytes); the same release twice is one row."""
        m = bundle.manifest
        async with self._db.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO ciudad_ota_bundles "
                "(tenant, node, version, min_boot, sha256, size, data) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant, sha256) DO NOTHING",
                (tenant, m.node, m.version, m.min_boot, bundle.sha256, m.total_bytes, data),
            )
            cur = await conn.execute(
                f"SELECT {_BUNDLE_COLUMNS} FROM ciudad_ota_bundles "
                "WHERE tenant = %s AND sha256 = %s",
                (tenant, bundle.sha256),
            )
            row = await cur.fetchone()
        assert row is not None  # inserted or found in this transaction
        return BundleInfo(*row)

    async def bundles(self, tenant: str, limit: int = 1000) -> list[BundleInfo]:
        """The newest ``limit`` bundles, oldest first."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"SELECT * FROM (SELECT {_BUNDLE_COLUMNS} FROM ciudad_ota_bundles "
                "WHERE tenant = %s ORDER BY id DESC LIMIT %s) newest ORDER BY id",
                (tenant, limit),
            )
            return [BundleInfo(*row) for row in await cur.fetchall()]

    async def bundle(self, tenant: str, bundle_id: int) -> BundleInfo:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_BUNDLE_COLUMNS} FROM ciudad_ota_bundles WHERE tenant = %s AND id = %s",
                (tenant, bundle_id),
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"bundle {bundle_id} not found")
        return BundleInfo(*row)

    async def bundle_data(self, bundle_id: int) -> bytes:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT data FROM ciudad_ota_bundles WHERE id = %s", (bundle_id,)
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"bundle {bundle_id} not found")
        return bytes(row[0])

    # ---- roll-outs -----------------------------------------------------------------------
    async def create_rollout(
        self,
        tenant: str,
        bundle_id: int,
        update_id: str,
        target: dict[str, Any],
        devices: Sequence[tuple[str, str]],
    ) -> Rollout:
        """A new active roll-out to ``devices`` (apikey, device_id); refused when one of them
        is still in another open roll-out."""
        if not devices:
            raise ConfigurationError("the roll-out targets no device")
        async with self._db.connection() as conn, conn.transaction():
            await self._refuse_busy(conn, devices)
            cur = await conn.execute(
                "INSERT INTO ciudad_ota_rollouts (tenant, bundle_id, update_id, target) "
                f"VALUES (%s, %s, %s, %s) RETURNING {_ROLLOUT_COLUMNS}",
                (tenant, bundle_id, update_id, Jsonb(target)),
            )
            row = await cur.fetchone()
            assert row is not None  # RETURNING always yields the inserted row
            async with conn.cursor() as many:
                await many.executemany(
                    "INSERT INTO ciudad_ota_devices (rollout_id, apikey, device_id) "
                    "VALUES (%s, %s, %s)",
                    [(row[0], a, d) for a, d in devices],
                )
            await conn.execute(f"NOTIFY {OTA_CHANNEL}")
        return await self.rollout(tenant, row[0])

    async def _refuse_busy(
        self, conn: AsyncConnection[Any], devices: Sequence[tuple[str, str]]
    ) -> None:
        cur = await conn.execute(
            "SELECT d.apikey, d.device_id, r.id FROM ciudad_ota_devices d "
            "JOIN ciudad_ota_rollouts r ON r.id = d.rollout_id "
            "WHERE r.state = ANY(%s) AND NOT d.state = ANY(%s) "
            "AND (d.apikey, d.device_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
            (list(_OPEN), list(_FINAL), [a for a, _ in devices], [d for _, d in devices]),
        )
        busy = await cur.fetchall()
        if busy:
            names = ", ".join(f"{a}/{d} (roll-out {r})" for a, d, r in busy[:5])
            raise ConfigurationError(f"devices already being updated: {names}; abort it first")

    async def rollouts(self, tenant: str, limit: int = 1000) -> list[Rollout]:
        """The newest ``limit`` roll-outs, oldest first."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"SELECT * FROM (SELECT {_ROLLOUT_COLUMNS} FROM ciudad_ota_rollouts "
                "WHERE tenant = %s ORDER BY id DESC LIMIT %s) newest ORDER BY id",
                (tenant, limit),
            )
            return [_rollout(row) for row in await cur.fetchall()]

    async def rollout(self, tenant: str, rollout_id: int) -> Rollout:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_ROLLOUT_COLUMNS} FROM ciudad_ota_rollouts WHERE tenant = %s AND id = %s",
                (tenant, rollout_id),
            )
            row = await cur.fetchone()
            if row is None:
                raise NotFoundError(f"roll-out {rollout_id} not found")
            cur = await conn.execute(
                f"SELECT {_DEVICE_COLUMNS} FROM ciudad_ota_devices WHERE rollout_id = %s "
                "ORDER BY apikey, device_id",
                (rollout_id,),
            )
            devices = tuple(
                TargetStatus(a, d, DeviceState(s), *rest) for a, d, s, *rest in await cur.fetchall()
            )
        return _rollout(row, devices)

    async def confirmed_on(self, tenant: str, apikey: str, version: str) -> set[str]:
        """Devices of group ``apikey`` that confirmed ``version`` in some roll-out."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT DISTINCT d.device_id FROM ciudad_ota_devices d "
                "JOIN ciudad_ota_rollouts r ON r.id = d.rollout_id "
                "JOIN ciudad_ota_bundles b ON b.id = r.bundle_id "
                "WHERE r.tenant = %s AND d.apikey = %s AND d.state = 'confirmed' "
                "AND b.version = %s",
                (tenant, apikey, version),
            )
            return {row[0] for row in await cur.fetchall()}

    async def change_rollout(
        self, tenant: str, rollout_id: int, to: RolloutState, allowed_from: Sequence[RolloutState]
    ) -> Rollout:
        """pause / resume / abort; ConfigurationError when the roll-out is not in a state
        that allows it. Aborting marks the unfinished targets failed (aborted), except the
        installed ones: they are past the switch, and their outcome is still recorded."""
        async with self._db.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE ciudad_ota_rollouts SET state = %s, updated_at = now() "
                "WHERE tenant = %s AND id = %s AND state = ANY(%s) RETURNING id",
                (to.value, tenant, rollout_id, [s.value for s in allowed_from]),
            )
            if cur.rowcount == 0:
                current = await self.rollout(tenant, rollout_id)  # NotFoundError if none
                raise ConfigurationError(
                    f"roll-out {rollout_id} is {current.state.value}; cannot make it {to.value}"
                )
            if to is RolloutState.ABORTED:
                await conn.execute(
                    "UPDATE ciudad_ota_devices SET state = 'failed', reason = 'aborted', "
                    "updated_at = now() WHERE rollout_id = %s AND NOT state = ANY(%s)",
                    (rollout_id, [*_FINAL, DeviceState.INSTALLED.value]),
                )
            await conn.execute(f"NOTIFY {OTA_CHANNEL}")
        return await self.rollout(tenant, rollout_id)

    # ---- the OTA service -----------------------------------------------------------------
    async def claim_starts(self, resend_after_s: float) -> list[Delivery]:
        """Pending targets of active roll-outs whose start was never sent, or sent over
        ``resend_after_s`` ago without an answer; marked sent now (so two gateways do not
        both send it)."""
        async with self._db.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE ciudad_ota_devices d SET start_sent_at = now() "
                "FROM ciudad_ota_rollouts r WHERE r.id = d.rollout_id AND r.state = 'active' "
                "AND d.state = 'pending' AND (d.start_sent_at IS NULL "
                "OR d.start_sent_at < now() - make_interval(secs => %s)) "
                "RETURNING r.id, r.state, r.bundle_id, r.update_id, d.apikey, d.device_id, d.state",
                (resend_after_s,),
            )
            rows = await cur.fetchall()
        return [_delivery(row) for row in rows]

    async def claim_aborts(self) -> list[Delivery]:
        """Targets of aborted roll-outs that had a start: each is told once (claimed here);
        one that missed it is told again when it next reports."""
        async with self._db.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE ciudad_ota_devices d SET start_sent_at = NULL "
                "FROM ciudad_ota_rollouts r WHERE r.id = d.rollout_id AND r.state = 'aborted' "
                "AND d.reason = 'aborted' AND d.start_sent_at IS NOT NULL "
                "RETURNING r.id, r.state, r.bundle_id, r.update_id, d.apikey, d.device_id, d.state"
            )
            rows = await cur.fetchall()
        return [_delivery(row) for row in rows]

    async def delivery(self, update_id: str, apikey: str, device_id: str) -> Delivery | None:
        """The roll-out and target a node's report names; None if it names none of ours."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT r.id, r.state, r.bundle_id, r.update_id, d.apikey, d.device_id, d.state "
                "FROM ciudad_ota_rollouts r JOIN ciudad_ota_devices d ON d.rollout_id = r.id "
                "WHERE r.update_id = %s AND d.apikey = %s AND d.device_id = %s",
                (update_id, apikey, device_id),
            )
            row = await cur.fetchone()
        return None if row is None else _delivery(row)

    async def record(self, rollout_id: int, report: Report, progress: float | None) -> None:
        """A node's report: the target's state (a final state is never left), then the
        roll-out halts on a failure or completes when every target is done."""
        async with self._db.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE ciudad_ota_devices SET state = %s, reason = %s, "
                "progress = coalesce(%s, progress), version = coalesce(%s, version), "
                "updated_at = now() "
                "WHERE rollout_id = %s AND apikey = %s AND device_id = %s "
                "AND NOT state = ANY(%s)",
                (
                    report.state.value,
                    report.reason,
                    progress,
                    report.version,
                    rollout_id,
                    report.apikey,
                    report.device_id,
                    list(_FINAL),
                ),
            )
            await self._settle(conn, rollout_id, report)

    async def _settle(self, conn: AsyncConnection[Any], rollout_id: int, report: Report) -> None:
        if report.state in (DeviceState.FAILED, DeviceState.ROLLED_BACK):
            reason = f"{report.apikey}/{report.device_id} {report.state.value}"
            if report.reason:
                reason += f" ({report.reason})"
            await conn.execute(
                "UPDATE ciudad_ota_rollouts SET state = 'halted', reason = %s, "
                "updated_at = now() WHERE id = %s AND state IN ('active', 'paused')",
                (reason, rollout_id),
            )
        elif report.state is DeviceState.CONFIRMED:
            # Failed devices of a halted roll-out someone resumed stay failed: done is final.
            await conn.execute(
                "UPDATE ciudad_ota_rollouts SET state = 'completed', updated_at = now() "
                "WHERE id = %s AND state = 'active' AND NOT EXISTS (SELECT 1 FROM "
                "ciudad_ota_devices WHERE rollout_id = %s AND NOT state = ANY(%s))",
                (rollout_id, rollout_id, list(_FINAL)),
            )
        else:
            return
        await conn.execute(f"NOTIFY {OTA_CHANNEL}")


def _delivery(row: Sequence[Any]) -> Delivery:
    rollout_id, rstate, bundle_id, update_id, apikey, device_id, dstate = row
    return Delivery(
        rollout_id,
        RolloutState(rstate),
        bundle_id,
        update_id,
        apikey,
        device_id,
        DeviceState(dstate),
    )
