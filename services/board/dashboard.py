"""The city dashboard: a page served by the platform, and the data it draws.

The page (``/dashboard``) is static HTML, CSS and JavaScript bundled in the
package: no tile server, CDN or font host is contacted, so it works on a
closed network. The map projects each sensor's coordinates onto an SVG; the
state colours are decided here, server side, so the page and the API agree.
"""

from __future__ import annotations

import functools
import html
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response

from interoperability import ReaderDep, TenantDep, get_settings
from knowledge import EntityQuery, EntityState, KnowledgeStore, SeriesAggregates, TimeRange
from services.energy.lighting_faults import lamp_faults, lamp_state
from services.entity_state import AsOfDep, coordinates, last_seen, latest_values
from services.environment.air_quality import BANDS, air_quality_index
from services.mobility.parking import availability, spots, status_of, zone_occupancy
from support import NotFoundError, Settings
from support.times import from_epoch_us, iso_utc

ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}
AIR_STATES = ("good", "fair", "fair", "poor", "poor", "poor")  # by EAQI band
MAX_ENTITIES = 10_000
LOUD_DB, VERY_LOUD_DB = 55.0, 65.0  # WHO / RD 1367/2007 day objectives, residential


def _noise_state(entity: EntityState) -> tuple[str, str]:
    level = latest_values(entity).get("LAeq")
    if not isinstance(level, float):
        return "unknown", "no LAeq"
    state = "good" if level < LOUD_DB else "fair" if level < VERY_LOUD_DB else "poor"
    return state, f"LAeq {level:.1f} dB(A)"


def _air_state(entity: EntityState) -> tuple[str, str]:
    latest = latest_values(entity)
    index = air_quality_index({k: v for k, v in latest.items() if isinstance(v, float)})
    if index is None:
        return "unknown", "no pollutant"
    return AIR_STATES[index.band], f"{BANDS[index.band]} ({index.dominant})"


def _parking_state(entity: EntityState) -> tuple[str, str]:
    status = status_of(entity)
    return {"free": "good", "occupied": "poor"}.get(status, "unknown"), status


def _lamp_state(entity: EntityState) -> tuple[str, str]:
    lamp = lamp_state(entity)
    faults = lamp_faults(lamp)
    if faults:
        return "fault", ", ".join(faults)
    return ("on" if lamp.on else "off"), f"{lamp.watts or 0:.0f} W"


STATE_OF = {
    "NoiseLevelObserved": _noise_state,
    "AirQualityObserved": _air_state,
    "ParkingSpot": _parking_state,
    "Streetlight": _lamp_state,
}


def sensor_state(entity: EntityState, stale_before: datetime) -> tuple[str, str]:
    """(state, label) of one sensor: the colour class the map uses and its tooltip."""
    if last_seen(entity) < stale_before:
        return "stale", "no recent data"
    return STATE_OF[entity.entity_type](entity)


def map_features(entities: list[EntityState], now: datetime) -> list[dict[str, Any]]:
    features = []
    for entity in entities:
        point = coordinates(entity.static)
        if point is None or entity.entity_type not in STATE_OF:
            continue
        state, label = sensor_state(entity, now - timedelta(minutes=15))
        features.append({"id": entity.entity_id, "type": entity.entity_type, "lat": point[0],
                         "lon": point[1], "state": state, "label": label})  # fmt: skip
    return features


def period_for(hours: float) -> int:
    """Chart resolution: one that a roll-up answers, about 24-96 points."""
    return 60 if hours <= 2 else 900 if hours <= 24 else 3600


def _mean_per_bucket(aggregates: SeriesAggregates, energetic: bool) -> list[list[Any]]:
    """Across entities, per bucket: energetic (dB) or arithmetic mean."""
    p = aggregates.partials
    points = []
    for bucket in np.unique(p.bucket):
        rows = p.bucket == bucket
        count = p.count[rows].sum()
        if not count:
            continue
        if energetic:
            value = 10 * np.log10(p.energy[rows].sum() / count) if p.energy[rows].sum() else None
        else:
            value = p.total[rows].sum() / count
        if value is not None:
            points.append([iso_utc(from_epoch_us(int(bucket))), round(float(value), 2)])
    return points


async def chart_series(
    store: KnowledgeStore, tenant: str, hours: float, now: datetime
) -> dict[str, Any]:
    period = period_for(hours)
    end = datetime.fromtimestamp((int(now.timestamp()) // period + 1) * period, UTC)
    window = TimeRange(end - timedelta(hours=hours), end)

    async def mean(attr: str, entity_type: str, energetic: bool = False) -> list[list[Any]]:
        found = await store.aggregate(tenant, attr, period, window, entity_type)
        return _mean_per_bucket(found, energetic)

    power = await mean("powerConsumption", "Streetlight")
    lamps = await store.count_entities(tenant, "Streetlight")
    parking: list[list[Any]] = []
    zones = [z["zone"] for z in availability(await spots(store, tenant))]
    for zone in zones:
        for at, share in await zone_occupancy(store, tenant, zone, *_range(window), period):
            parking.append([iso_utc(at), round(share, 4), zone])
    return {
        "periodSeconds": period,
        "noise": await mean("LAeq", "NoiseLevelObserved", energetic=True),
        "air": {p: await mean(p, "AirQualityObserved") for p in ("no2", "pm10", "pm25", "o3")},
        "parking": parking,
        # mean lamp power x lamps x period: the fleet's energy per period
        "energy": [[at, round(w * lamps * period / 3.6e6, 4)] for at, w in power],
    }


def _range(window: TimeRange) -> tuple[datetime, datetime]:
    if window.start is None or window.end is None:
        raise ValueError("a chart needs a closed range")
    return window.start, window.end


@functools.cache
def _asset(name: str) -> bytes:
    """A bundled file, read once per process (they change only with the package)."""
    return resources.files("services").joinpath(f"dashboard_assets/{name}").read_bytes()


router = APIRouter(tags=["services: dashboard"])


# The page runs only its own script and style, talks only to this API, and may not be
# framed (no click-jacking of the acknowledge button).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/dashboard", response_class=HTMLResponse, summary="The city dashboard (a web page)")
async def dashboard_page(settings: Annotated[Settings, Depends(get_settings)]) -> HTMLResponse:
    page = _asset("index.html").decode()
    tenant = settings.default_tenant
    page = page.replace("{{DEFAULT_TENANT}}", html.escape(tenant, quote=True))
    return HTMLResponse(page, headers=PAGE_HEADERS)


@router.get("/dashboard/assets/{name}", summary="The dashboard's bundled scripts and styles")
async def dashboard_asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFoundError(f"no dashboard asset {name}")
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return Response(_asset(name), media_type=ASSETS[name], headers=headers)


@router.get("/ciudad/v1/services/dashboard/map", summary="Every sensor with its state colour")
async def dashboard_map(store: ReaderDep, tenant: TenantDep, now: AsOfDep) -> list[dict[str, Any]]:
    sensors = EntityQuery(types=tuple(STATE_OF))
    return map_features(await store.list_entities(tenant, None, MAX_ENTITIES, 0, sensors), now)


@router.get("/ciudad/v1/services/dashboard/series", summary="Noise, air, parking, energy charts")
async def dashboard_series(
    store: ReaderDep,
    tenant: TenantDep,
    now: AsOfDep,
    hours: Annotated[float, Query(gt=0, le=24 * 7)] = 24.0,
) -> dict[str, Any]:
    return await chart_series(store, tenant, hours, now)
