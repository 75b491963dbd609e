"""A simulated fleet: which devices exist, of what kind, and where."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import StrEnum


class NodeKind(StrEnum):
    """The four node types the firmware and the simulator know."""

    NOISE = "noise"
    AIR = "air"
    PARKING = "parking"
    STREETLIGHT = "streetlight"


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One field device as the simulator (and provisioning) sees it."""

    device_id: str
    kind: NodeKind
    apikey: str
    latitude: float
    longitude: float
    static: dict[str, str | float] = field(default_factory=dict)


DEFAULT_COUNTS = {
    NodeKind.NOISE: 6,
    NodeKind.AIR: 3,
    NodeKind.PARKING: 12,
    NodeKind.STREETLIGHT: 8,
}
_EARTH_RADIUS_M = 6_371_000.0
# One lamp of the simulated fleet has failed, as some always have in a real city, so that
# fault detection and its alerts have something to show.
FAILED_LAMP = 3
LOUD_STREET = 6  # and one noise sensor stands at a busy crossing


def offset_point(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point ``north_m``/``east_m`` metres away (equirectangular; fine within a city)."""
    dlat = math.degrees(north_m / _EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (_EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


def build_fleet(
    centre_lat: float,
    centre_lon: float,
    apikey: str,
    counts: dict[NodeKind, int] | None = None,
    radius_m: float = 1500.0,
    seed: int = 7,
) -> tuple[DeviceSpec, ...]:
    """Place ``counts`` devices of each kind around a centre, reproducibly from ``seed``."""
    rng = random.Random(seed)
    devices: list[DeviceSpec] = []
    for kind, count in (counts or DEFAULT_COUNTS).items():
        for n in range(1, count + 1):
            distance = radius_m * math.sqrt(rng.random())
            bearing = rng.uniform(0, 2 * math.pi)
            lat, lon = offset_point(
                centre_lat, centre_lon, distance * math.cos(bearing), distance * math.sin(bearing)
            )
            devices.append(
                DeviceSpec(
                    device_id=f"{kind.value}-{n:03d}",
                    kind=kind,
                    apikey=apikey,
                    latitude=round(lat, 6),
                    longitude=round(lon, 6),
                    static=_static_attributes(kind, n),
                )
            )
    return tuple(devices)


def _static_attributes(kind: NodeKind, n: int) -> dict[str, str | float]:
    if kind is NodeKind.NOISE and n == LOUD_STREET:
        return {"offset_db": 9.0}  # a busy crossing: its busiest hours pass 70 dB(A)
    if kind is NodeKind.PARKING:
        # Spots are grouped in zones of six along a street.
        return {"zone": f"zone-{(n - 1) // 6 + 1:02d}"}
    if kind is NodeKind.STREETLIGHT:
        static: dict[str, str | float] = {"power_rating_w": 70.0 if n % 2 else 100.0}
        if n == FAILED_LAMP:
            static["lamp_failed"] = "yes"  # its driver is on, the lamp draws nothing
        return static
    return {}
