"""Energy vertical, lighting: each lamp's switching and dimming schedule for a night,
from sunset and sunrise at its own coordinates.

The night of ``day`` runs from that day's sunset to the next day's sunrise.
The default profile dims to 50 % between 23:00 and 06:00 local time (the
hours of least traffic) and burns at full power otherwise; a step that would
fall outside the night is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from interoperability import StoreDep, TenantDep, iso_utc
from services.sun import sun_times

LAMP_TYPE = "Streetlight"


@dataclass(frozen=True, slots=True)
class DimmingStep:
    """From this local time on, this share of full power (percent)."""

    at: time
    level: int


@dataclass(frozen=True, slots=True)
class DimmingProfile:
    evening_level: int = 100
    steps: tuple[DimmingStep, ...] = (DimmingStep(time(23), 50), DimmingStep(time(6), 100))
    timezone: str = "Europe/Madrid"


@dataclass(frozen=True, slots=True)
class ScheduleStep:
    at: datetime  # UTC
    level: int  # 0 is off


def night_schedule(
    day: date, latitude: float, longitude: float, profile: DimmingProfile = DimmingProfile()
) -> list[ScheduleStep] | None:
    """On at sunset, the profile's steps, off at sunrise; None where the Sun does not set or
    rise (polar day or night: nothing to schedule by the Sun)."""
    dusk = sun_times(day, latitude, longitude).sunset
    dawn = sun_times(day + timedelta(days=1), latitude, longitude).sunrise
    if dusk is None or dawn is None:
        return None
    zone = ZoneInfo(profile.timezone)
    steps = [ScheduleStep(dusk, profile.evening_level)]
    for step in profile.steps:
        for local_day in (day, day + timedelta(days=1)):
            moment = datetime.combine(local_day, step.at, zone).astimezone(UTC)
            if dusk < moment < dawn:
                steps.append(ScheduleStep(moment, step.level))
    steps.append(ScheduleStep(dawn, 0))
    return sorted(steps, key=lambda s: s.at)


def _coordinates(static: Any) -> tuple[float, float] | None:
    location = static.get("location") if isinstance(static, dict) else None
    geometry = location.get("value") if isinstance(location, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    longitude, latitude = geometry["coordinates"][:2]
    return float(latitude), float(longitude)


router = APIRouter(prefix="/ciudad/v1/services/lighting", tags=["services: energy"])


@router.get("/schedule", summary="Each lamp's switching and dimming schedule for a night")
async def schedule(
    store: StoreDep,
    tenant: TenantDep,
    day: Annotated[date, Query(description="The night that starts at this day's sunset")],
) -> list[dict[str, Any]]:
    rows = []
    for lamp in await store.list_entities(tenant, LAMP_TYPE, 1000, 0):
        point = _coordinates(lamp.static)
        if point is None:
            continue
        steps = night_schedule(day, *point)
        rows.append(
            {
                "id": lamp.entity_id,
                "day": day.isoformat(),
                "steps": None
                if steps is None
                else [{"at": iso_utc(s.at), "level": s.level} for s in steps],
            }
        )
    return rows
