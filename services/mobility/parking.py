"""Mobility vertical, parking: availability per zone now, occupancy history, the
forecast for the next hours, and the nearest free bay to a point.

A bay's zone is its ``refParkingSite``. Occupancy is time-weighted: each
status holds until the next one, and time with no known status is left out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query

from interoperability import (
    BadRequestError,
    EndTimeAtQuery,
    ReaderDep,
    TenantDep,
    TimeAtQuery,
    checked_range,
)
from knowledge import EntityState, KnowledgeStore, TimeRange, distance_m, time_weighted_occupancy
from services.entity_state import attribute_state, coordinates
from services.mobility.parking_forecast import Occupancy, forecast, seasonal_profile
from support.times import iso_utc, to_epoch_us

SPOT_TYPE = "ParkingSpot"
MAX_SPOTS = 10_000
NO_ZONE = "(none)"
LOOK_BACK = timedelta(days=1)  # a status this old still says how a bay stood at a range start


def zone_of(spot: EntityState) -> str:
    site = spot.static.get("refParkingSite")
    target = site.get("object") if isinstance(site, dict) else None
    return str(target) if target else NO_ZONE


def status_of(spot: EntityState) -> str:
    state = attribute_state(spot, "status")
    return str(state.value) if state else "unknown"


async def spots(store: KnowledgeStore, tenant: str, zone: str | None = None) -> list[EntityState]:
    found = await store.list_entities(tenant, SPOT_TYPE, MAX_SPOTS, 0)
    return [s for s in found if zone is None or zone_of(s) == zone]


def availability(bays: list[EntityState]) -> list[dict[str, Any]]:
    """Per zone: bays by status and the share occupied among those with a known status."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for bay in bays:
        counts[zone_of(bay)][status_of(bay)] += 1
    rows = []
    for zone, by_status in sorted(counts.items()):
        known = by_status["free"] + by_status["occupied"]
        rows.append(
            {
                "zone": zone,
                "total": sum(by_status.values()),
                "free": by_status["free"],
                "occupied": by_status["occupied"],
                "unknown": sum(by_status.values()) - known,
                "occupancy": round(by_status["occupied"] / known, 4) if known else None,
            }
        )
    return rows


async def zone_occupancy(
    store: KnowledgeStore, tenant: str, zone: str, start: datetime, end: datetime, period_s: int
) -> list[tuple[datetime, float]]:
    """Mean time-weighted occupancy of the zone's bays per period of [start, end)."""
    edges = list(range(to_epoch_us(start), to_epoch_us(end), period_s * 1_000_000))
    per_bucket: list[list[float]] = [[] for _ in edges]
    for bay in await spots(store, tenant, zone):
        histories = await store.history(
            tenant, bay.entity_id, ["status"], TimeRange(start - LOOK_BACK, end)
        )
        if not histories or not histories[0].times:
            continue
        history = histories[0]
        times = np.array([to_epoch_us(t) for t in history.times], dtype=np.int64)
        occupied = np.array([v == "occupied" for v in history.values])
        for i, edge in enumerate(edges):
            share = time_weighted_occupancy(times, occupied, edge, edge + period_s * 1_000_000)
            if not np.isnan(share):
                per_bucket[i].append(share)
    return [
        (datetime.fromtimestamp(edge / 1e6, UTC), float(np.mean(values)))
        for edge, values in zip(edges, per_bucket, strict=True)
        if values
    ]


router = APIRouter(prefix="/ciudad/v1/services/parking", tags=["services: mobility"])
Zone = Annotated[str, Query(description="The zone: a refParkingSite id")]


@router.get("/zones", summary="Availability per zone now")
async def zones(store: ReaderDep, tenant: TenantDep) -> list[dict[str, Any]]:
    return availability(await spots(store, tenant))


@router.get("/occupancy", summary="A zone's time-weighted occupancy over a range")
async def occupancy(
    store: ReaderDep,
    tenant: TenantDep,
    zone: Zone,
    time_at: TimeAtQuery,
    end_time_at: EndTimeAtQuery,
    period_s: Annotated[int, Query(alias="periodSeconds", ge=300, le=86_400)] = 3600,
) -> list[dict[str, Any]]:
    start, end = checked_range(time_at, end_time_at, max_days=31)
    rows = await zone_occupancy(store, tenant, zone, start, end, period_s)
    return [{"at": iso_utc(at), "occupancy": round(share, 4)} for at, share in rows]


@router.get("/forecast", summary="A zone's expected occupancy for the next hours")
async def zone_forecast(
    store: ReaderDep,
    tenant: TenantDep,
    zone: Zone,
    hours: Annotated[int, Query(ge=1, le=24)] = 3,
    history_days: Annotated[int, Query(alias="historyDays", ge=1, le=31)] = 28,
    timezone: Annotated[str, Query()] = "Europe/Madrid",
) -> dict[str, Any]:
    """Seasonal by weekday/weekend and local hour, learnt from the zone's hourly history."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    past = await zone_occupancy(store, tenant, zone, now - timedelta(days=history_days), now, 3600)
    try:
        profile = seasonal_profile((Occupancy(zone, at, share) for at, share in past), timezone)
    except (KeyError, ValueError):
        raise BadRequestError(f"unknown timezone {timezone!r}") from None
    moments = [now + timedelta(hours=h) for h in range(1, hours + 1)]
    return {
        "zone": zone,
        "learntFromHours": len(past),
        "forecast": [
            {"at": iso_utc(at), "occupancy": None if v is None else round(v, 4)}
            for at, v in zip(moments, forecast(profile, zone, moments, timezone), strict=True)
        ],
    }


@router.get("/nearest", summary="The free bays nearest to a point")
async def nearest(
    store: ReaderDep,
    tenant: TenantDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    limit: Annotated[int, Query(ge=1, le=100)] = 1,
) -> list[dict[str, Any]]:
    found: list[tuple[float, dict[str, Any]]] = []
    for bay in await spots(store, tenant):
        point = coordinates(bay.static)
        if point is not None and status_of(bay) == "free":
            metres = distance_m((lon, lat), (point[1], point[0]))
            where = {"type": "Point", "coordinates": [point[1], point[0]]}
            found.append(
                (metres, {"id": bay.entity_id, "zone": zone_of(bay),
                          "distanceM": round(metres, 1), "location": where})
            )  # fmt: skip
    return [bay for _, bay in sorted(found, key=lambda f: f[0])[:limit]]
