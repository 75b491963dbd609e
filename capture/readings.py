"""Realistic synthetic readings per node kind, reproducible from a seed.

Each generator yields the device's measure (short attribute names, as the
firmware sends them) at a given time.  Profiles follow the day: traffic noise
and NO2 peak by day, O3 in the afternoon, parking fills in working hours and
streetlights burn at night, dimmed after midnight.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from capture.fleet import DeviceSpec, NodeKind
from capture.protocol import TIME_KEY, format_time


def _hour_of_day(epoch_s: float) -> float:
    stamp = datetime.fromtimestamp(epoch_s, UTC)
    # Spain is UTC+1 in winter; profiles are in local solar-ish time.
    return (stamp.hour + 1 + stamp.minute / 60 + stamp.second / 3600) % 24


def activity(hour: float) -> float:
    """Urban activity 0 (03:00) .. 1 (about 14:00): a smooth daily cycle."""
    return 0.5 - 0.5 * math.cos(2 * math.pi * (hour - 3) / 22) if 3 <= hour <= 25 else 0.0


def _noise(rng: random.Random, hour: float, offset_db: float) -> dict[str, object]:
    laeq = 42 + offset_db + 24 * activity(hour) + rng.gauss(0, 2.5)
    return {"laeq": round(laeq, 1), "lamax": round(laeq + rng.uniform(4, 16), 1)}


def _air(rng: random.Random, hour: float) -> dict[str, object]:
    traffic = activity(hour)
    afternoon = max(0.0, math.sin(math.pi * (hour - 9) / 12)) if 9 <= hour <= 21 else 0.0
    pm10 = 14 + 22 * traffic + rng.gauss(0, 3)
    return {
        "pm25": round(max(1.0, 0.6 * pm10 + rng.gauss(0, 1.5)), 1),
        "pm10": round(max(2.0, pm10), 1),
        "no2": round(max(2.0, 12 + 55 * traffic + rng.gauss(0, 5)), 1),
        "o3": round(max(2.0, 25 + 75 * afternoon - 15 * traffic + rng.gauss(0, 5)), 1),
        "tmp": round(6 + 8 * afternoon + rng.gauss(0, 0.5), 1),
        "rh": round(min(100.0, max(5.0, 80 - 30 * afternoon + rng.gauss(0, 3))), 1),
    }


def _light_level(hour: float) -> int:
    """Dimming schedule in percent: full from dusk, half after midnight, off by day."""
    if 8 <= hour < 18:
        return 0
    return 50 if hour < 6 or hour >= 24 else 100


@dataclass(slots=True)
class ReadingGenerator:
    """Produces one device's measures; keeps the little state a real node keeps."""

    device: DeviceSpec
    seed: int = 7
    occupied: bool = False
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(zlib.crc32(f"{self.seed}:{self.device.device_id}".encode()))
        self.occupied = self.rng.random() < 0.5

    def measure(self, epoch_s: float) -> dict[str, object]:
        """The measure the device would publish at ``epoch_s``."""
        hour = _hour_of_day(epoch_s)
        values: dict[str, object] = {TIME_KEY: format_time(epoch_s)}
        kind = self.device.kind
        if kind is NodeKind.NOISE:
            values.update(_noise(self.rng, hour, float(self.device.static.get("offset_db", 0.0))))
        elif kind is NodeKind.AIR:
            values.update(_air(self.rng, hour))
        elif kind is NodeKind.PARKING:
            values["st"] = self._parking_status(hour)
        else:
            values.update(self._streetlight(hour))
        return values

    def _parking_status(self, hour: float) -> str:
        target = 0.2 + 0.7 * activity(hour)
        flip = (1 - target) * 0.3 if self.occupied else target * 0.3
        if self.rng.random() < flip:
            self.occupied = not self.occupied
        return "occupied" if self.occupied else "free"

    def _streetlight(self, hour: float) -> dict[str, object]:
        level = _light_level(hour)
        rating = float(self.device.static.get("power_rating_w", 70.0))
        watts = rating * level / 100 * self.rng.uniform(0.96, 1.04) if level else 0.0
        failed = level > 0 and self.device.static.get("lamp_failed") == "yes"
        if failed:
            watts = 0.3  # the driver's standby draw
        return {
            "on": "on" if level else "off",
            "dim": level,
            "w": round(watts, 1),
            "flt": "no_current" if failed else "ok",
        }
