"""Starting a roll-out: which devices a target names, and the checks before any is sent.

A target is one device, a whole service group (the "device group", by apikey), or a
percentage of a group (a staged roll-out: that share first; a later roll-out with a
larger share skips the devices already confirmed on the version).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

from acquisition.ota.bundle import decode_bundle
from acquisition.store.ota import OtaStore, Rollout
from acquisition.store.registry import DeviceRecord, DeviceRegistry
from support import ConfigurationError, NotFoundError

# The node kind (config.kind, the manifest's "node") that reports each entity type.
NODE_KIND_OF = {
    "NoiseLevelObserved": "noise",
    "AirQualityObserved": "air",
    "ParkingSpot": "parking",
    "Streetlight": "streetlight",
}


@dataclass(frozen=True, slots=True)
class RolloutTarget:
    apikey: str
    device_id: str | None = None  # one device; None: the group
    percent: float = 100.0  # of the group, 0 < percent <= 100

    def describe(self) -> dict[str, Any]:
        if self.device_id is not None:
            return {"device": f"{self.apikey}/{self.device_id}"}
        return {"group": self.apikey, "percent": self.percent}


def staged_share(candidates: list[str], percent: float, salt: str) -> list[str]:
    """ceil(percent %) of ``candidates`` (at least one), picked by a salted hash: spread
    over the group rather than its first names, and the same for the same salt."""
    if not 0 < percent <= 100:
        raise ConfigurationError("percent must be in (0, 100]")
    count = max(1, math.ceil(len(candidates) * percent / 100 - 1e-9))
    ranked = sorted(candidates, key=lambda d: hashlib.sha256(f"{salt}:{d}".encode()).digest())
    return sorted(ranked[:count])


async def start_rollout(
    store: OtaStore, registry: DeviceRegistry, tenant: str, bundle_id: int, target: RolloutTarget
) -> Rollout:
    """Resolves the target's devices in ``tenant`` and creates the roll-out (state active)."""
    bundle = await store.bundle(tenant, bundle_id)
    records = [r for r in await registry.devices(tenant) if r.entry.apikey == target.apikey]
    if not records:
        raise NotFoundError(f"service group {target.apikey} has no devices in tenant {tenant}")
    if target.device_id is not None:
        records = [r for r in records if r.entry.device_id == target.device_id]
        if not records:
            raise NotFoundError(f"device {target.apikey}/{target.device_id} not found")
        _check_kind(records[0], bundle.node)
    else:  # a group: its nodes of the bundle's kind
        records = [r for r in records if NODE_KIND_OF.get(r.entry.entity_type) == bundle.node]
    usable = [r.entry.device_id for r in records if not r.revoked and r.entry.lorawan is None]
    if not usable:
        raise ConfigurationError("no target device can be updated (revoked or LoRaWAN)")
    update_id = secrets.token_hex(6)
    if target.device_id is None:
        done = await store.confirmed_on(tenant, target.apikey, bundle.version)
        usable = [d for d in usable if d not in done]
        if not usable:
            raise ConfigurationError(f"every device of the group runs {bundle.version} already")
        usable = staged_share(usable, target.percent, update_id)
    # The stored bundle was verified on upload; decoding it again here refuses a roll-out
    # of a bundle damaged in the database before any node sees it.
    decode_bundle(await store.bundle_data(bundle_id))
    devices = [(target.apikey, d) for d in usable]
    return await store.create_rollout(tenant, bundle_id, update_id, target.describe(), devices)


def _check_kind(record: DeviceRecord, node: str) -> None:
    kind = NODE_KIND_OF.get(record.entry.entity_type)
    if kind != node:
        raise ConfigurationError(
            f"the bundle is for {node} nodes; {record.entry.device_id} is a {kind or 'other'} node"
        )
