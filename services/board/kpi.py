"""Governance: the KPI board ("cuadro de mando") of one tenant, per smart domain.

Over the last ``hours`` (24 by default): sensors online (an observed entity
reporting within ``onlineMinutes``), data completeness (readings received
over readings expected from each provisioned sensor's period), alerts raised
per vertical, noise and air exceedances, parking occupancy now, lighting
energy and what dimming saved.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from interoperability import ReaderDep, RegistryDep, TenantDep, get_settings
from knowledge import EntityQuery, EntityState, TimeRange
from services.alerts.evaluation import ALERT_TYPE, newest_alerts, status_query
from services.board.slo import completeness
from services.energy.lighting_faults import energy_summary, lamp_energy
from services.entity_state import AsOfDep, last_seen, latest_values
from services.mobility.parking import availability, spots
from support import Settings
from support.times import iso_utc

DOMAINS = {
    "NoiseLevelObserved": "environment",
    "AirQualityObserved": "environment",
    "ParkingSpot": "mobility",
    "OffStreetParking": "mobility",
    "Streetlight": "energy",
}
MAX_ENTITIES = 10_000
COUNTED_ALERTS = 1000  # the newest; a tenant raising more in the window sees this cap


def online_by_type(entities: list[EntityState], since: datetime) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entity_type, domain in DOMAINS.items():
        of_type = [e for e in entities if e.entity_type == entity_type]
        online = sum(1 for e in of_type if last_seen(e) >= since)
        out[entity_type] = {
            "domain": domain,
            "sensors": len(of_type),
            "online": online,
            "onlineShare": round(online / len(of_type), 4) if of_type else None,
        }
    return out


def _starts_in(alert: dict[str, Any], start: datetime, end: datetime) -> bool:
    try:
        return start <= datetime.fromisoformat(alert["validFrom"]) < end
    except (TypeError, ValueError):  # an alert from elsewhere without a valid validFrom
        return False


def alert_counts(alerts: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, Any]:
    """Alerts about [start, end): those whose own window starts in it."""
    recent = [a for a in alerts if _starts_in(a, start, end)]
    return {
        "raised": len(recent),
        "bySubCategory": dict(Counter(a["subCategory"] for a in recent)),
        "byRule": dict(Counter(a["rule"] for a in recent)),
    }


def parking_now(bays: list[EntityState], entities: list[EntityState]) -> dict[str, Any]:
    """Occupancy now over on-street bays (by zone) and car parks (by their counts)."""
    zones = availability(bays)
    occupied = sum(z["occupied"] for z in zones)
    spaces = occupied + sum(z["free"] for z in zones)
    for car_park in (e for e in entities if e.entity_type == "OffStreetParking"):
        latest = latest_values(car_park)
        total, taken = latest.get("totalSpotNumber"), latest.get("occupiedSpotNumber")
        if isinstance(total, float) and isinstance(taken, float) and total > 0:
            spaces += int(total)
            occupied += min(int(taken), int(total))  # some car parks count past capacity
    return {"occupancy": round(occupied / spaces, 4) if spaces else None, "zones": zones}


router = APIRouter(prefix="/ciudad/v1/services", tags=["services: governance"])


@router.get("/kpi", summary="The tenant's KPI board per smart domain")
async def kpi_board(
    store: ReaderDep,
    tenant: TenantDep,
    registry: RegistryDep,
    settings: Annotated[Settings, Depends(get_settings)],
    now: AsOfDep,
    hours: Annotated[float, Query(gt=0, le=24 * 31)] = 24.0,
    online_minutes: Annotated[float, Query(alias="onlineMinutes", gt=0, le=1440)] = 15.0,
) -> dict[str, Any]:
    start = now - timedelta(hours=hours)
    window = TimeRange(start, now)
    sensors = EntityQuery(types=tuple(DOMAINS))
    entities = await store.list_entities(tenant, None, MAX_ENTITIES, 0, sensors)
    devices = [d for d in (await registry.provisioning()).devices() if d.tenant == tenant]
    received = await store.readings_per_entity(tenant, window)
    alerts = await newest_alerts(store, tenant, COUNTED_ALERTS)
    open_alerts = await store.count_entities(tenant, ALERT_TYPE, status_query("open"))
    return {
        "tenant": tenant,
        "window": {"start": iso_utc(start), "end": iso_utc(now)},
        "sensorsOnline": online_by_type(entities, now - timedelta(minutes=online_minutes)),
        "completeness": completeness(devices, received, hours * 3600, settings.slo_completeness),
        "alerts": alert_counts(alerts, start, now) | {"open": open_alerts},
        "parking": parking_now(await spots(store, tenant), entities),
        "energy": energy_summary(await lamp_energy(store, tenant, window)),
    }
