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

from fastapi import APIRouter, Depends, Query

from interoperability import (
    BadRequestError,
    CommandsDep,
    EndTimeAtQuery,
    ReaderDep,
    RegistryDep,
    StoreDep,
    TenantDep,
    TimeAtQuery,
    checked_range,
)
from knowledge import TimeRange
from services.energy.lighting_faults import (
    LAMP_TYPE,
    energy_summary,
    lamp_energy,
    lamp_faults,
    lamp_states,
)
from services.energy.sun import sun_times
from services.entity_state import coordinates
from support.times import iso_utc


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


def profile_query(
    evening_level: Annotated[int, Query(alias="eveningLevel", ge=1, le=100)] = 100,
    dim_level: Annotated[int, Query(alias="dimLevel", ge=1, le=100)] = 50,
    dim_from: Annotated[time, Query(alias="dimFrom", description="Local time")] = time(23),
    dim_until: Annotated[time, Query(alias="dimUntil", description="Local time")] = time(6),
    timezone: Annotated[str, Query()] = "Europe/Madrid",
) -> DimmingProfile:
    """A dimming profile from the request: full power (``eveningLevel``) from sunset,
    ``dimLevel`` from ``dimFrom``, back to full at ``dimUntil``, off at sunrise."""
    try:
        ZoneInfo(timezone)
    except (KeyError, ValueError):
        raise BadRequestError(f"unknown timezone {timezone!r:.60}") from None
    steps = (DimmingStep(dim_from, dim_level), DimmingStep(dim_until, evening_level))
    return DimmingProfile(evening_level, steps, timezone)


ProfileDep = Annotated[DimmingProfile, Depends(profile_query)]
router = APIRouter(prefix="/ciudad/v1/services/lighting", tags=["services: energy"])


@router.get("/schedule", summary="Each lamp's switching and dimming schedule for a night")
async def schedule(
    store: ReaderDep,
    tenant: TenantDep,
    day: Annotated[date, Query(description="The night that starts at this day's sunset")],
    profile: ProfileDep,
) -> list[dict[str, Any]]:
    rows = []
    for lamp in await store.list_entities(tenant, LAMP_TYPE, 1000, 0):
        point = coordinates(lamp.static)
        if point is None:
            continue
        steps = night_schedule(day, *point, profile)
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


def firmware_steps(steps: list[ScheduleStep]) -> list[list[int]]:
    """The lighting node's ``schedule`` command value: ``[[minute of the UTC day, level]]``,
    sorted by minute (the node repeats it every day)."""
    return sorted([[s.at.hour * 60 + s.at.minute, s.level] for s in steps])


@router.post(
    "/schedule/send",
    status_code=202,
    summary="Send each lamp its night schedule as a command through the gateway",
)
async def send_schedules(
    store: StoreDep,
    tenant: TenantDep,
    registry: RegistryDep,
    commands: CommandsDep,
    day: Annotated[date, Query(description="The night that starts at this day's sunset")],
    profile: ProfileDep,
) -> list[dict[str, Any]]:
    devices = {
        d.entity_id: d for d in (await registry.provisioning()).devices() if d.tenant == tenant
    }
    sent = []
    for lamp in await store.list_entities(tenant, LAMP_TYPE, 1000, 0):
        point, device = coordinates(lamp.static), devices.get(lamp.entity_id)
        steps = night_schedule(day, *point, profile) if point else None
        if device is None or not steps:
            continue
        command = await commands.submit(
            tenant, device.apikey, device.device_id, "schedule", firmware_steps(steps), 43_200
        )
        sent.append({"id": lamp.entity_id, "device": device.device_id, "command": command.id,
                     "schedule": command.value})  # fmt: skip
    return sent


@router.get("/faults", summary="Lamps whose latest report shows a fault")
async def faults(store: ReaderDep, tenant: TenantDep) -> list[dict[str, Any]]:
    return [
        {"id": lamp.entity_id, "faults": found, "watts": lamp.watts, "ratingW": lamp.rating_w,
         "observedAt": iso_utc(lamp.observed_at) if lamp.observed_at else None}
        for lamp in await lamp_states(store, tenant)
        if (found := lamp_faults(lamp))
    ]  # fmt: skip


@router.get("/energy", summary="Energy per lamp over a range, and the saving against full power")
async def energy(
    store: ReaderDep,
    tenant: TenantDep,
    time_at: TimeAtQuery,
    end_time_at: EndTimeAtQuery,
) -> dict[str, Any]:
    start, end = checked_range(time_at, end_time_at, max_days=31)
    lamps = await lamp_energy(store, tenant, TimeRange(start, end))
    return energy_summary(lamps) | {
        "lamps": [
            {"id": e.entity_id, "kWh": round(e.kwh, 4), "baselineKWh": round(e.baseline_kwh, 4)}
            for e in lamps
        ],
    }
