"""Environment vertical, noise: Ld/Le/Ln/Lden per sensor and day, against Spain's acoustic
quality objectives (RD 1367/2007, Annex II, Table A: existing urbanised areas), and the
same as GeoJSON for a noise map.

A sensor's acoustic area is its static attribute ``acousticAreaType`` (the
letters of the Royal Decree: a residential, b industrial, c recreational, d
tertiary, e sanitary/educational/cultural); without it, residential. A period
exceeds its objective when its level is above it (the Decree's annual 3 dB
tolerance applies to yearly assessments, not to single days).
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, TypeAdapter

from interoperability import ReaderDep, TenantDep, check_time
from knowledge import EU_NOISE_PERIODS, DayNoise, KnowledgeStore, TimeRange, day_noise
from services.config_files import load_json_table
from support import ConfigurationError

NOISE_TYPE = "NoiseLevelObserved"
AREA_ATTRIBUTE = "acousticAreaType"
DEFAULT_AREA = "a"


class AreaObjectives(BaseModel):
    """Quality objectives of one acoustic area type, dB(A), per period."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    ld: float
    le: float
    ln: float


def _table(**areas: tuple[str, float, float, float]) -> dict[str, AreaObjectives]:
    return {
        k: AreaObjectives(name=n, ld=d, le=e, ln=night) for k, (n, d, e, night) in areas.items()
    }


RD_1367_2007_TABLE_A = _table(
    e=("sanitary, educational and cultural", 60, 60, 50),
    a=("residential", 65, 65, 55),
    d=("tertiary", 70, 70, 65),
    c=("recreational and shows", 73, 73, 63),
    b=("industrial", 75, 75, 65),
)
ObjectivesTable = dict[str, AreaObjectives]
_TABLE = TypeAdapter(ObjectivesTable)


def load_objectives(path: Path | None) -> ObjectivesTable:
    """The objectives table from a JSON object ``{area: {name, ld, le, ln}}`` (Spain's
    RD 1367/2007 without a file); it must define the default area ``a``."""
    if path is None:
        return RD_1367_2007_TABLE_A
    table = load_json_table(path, _TABLE, "noise objectives")
    if DEFAULT_AREA not in table:
        raise ConfigurationError(
            f"noise objectives file {path}: define area {DEFAULT_AREA!r}, the default"
        )
    return table


def exceedances(day: DayNoise, objectives: AreaObjectives) -> list[str]:
    """The periods (day, evening, night) whose level is above the area's objective."""
    pairs = (
        ("day", day.ld, objectives.ld),
        ("evening", day.le, objectives.le),
        ("night", day.ln, objectives.ln),
    )
    return [name for name, level, limit in pairs if not math.isnan(level) and level > limit]


def area_of(static: Any, table: ObjectivesTable) -> str:
    attribute = static.get(AREA_ATTRIBUTE) if isinstance(static, dict) else None
    value = attribute.get("value") if isinstance(attribute, dict) else None
    return value if isinstance(value, str) and value in table else DEFAULT_AREA


def _level(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 1)


async def noise_days(
    store: KnowledgeStore, tenant: str, day: date, table: ObjectivesTable
) -> list[dict[str, Any]]:
    """Every noise sensor's levels for one assessment day (07:00 local to 07:00 local)."""
    zone = ZoneInfo(EU_NOISE_PERIODS.timezone)
    # Checked: a day such as 9999-12-31 has no next day to end at.
    start = check_time("day", datetime.combine(day, time(EU_NOISE_PERIODS.day_start), zone))
    quarters = await store.aggregate(
        tenant, "LAeq", 900, TimeRange(start, start + timedelta(days=1)), NOISE_TYPE
    )
    sensors = {s.entity_id: s for s in await store.list_entities(tenant, NOISE_TYPE, 1000, 0)}
    rows = []
    for levels in day_noise(quarters):
        if levels.day != day:
            continue
        state = sensors.get(levels.entity_id)
        area = area_of(state.static if state else {}, table)
        objectives = table[area]
        rows.append(
            {
                "id": levels.entity_id,
                "day": day.isoformat(),
                "Ld": _level(levels.ld),
                "Le": _level(levels.le),
                "Ln": _level(levels.ln),
                "Lden": _level(levels.lden),
                "areaType": area,
                "objectives": {"Ld": objectives.ld, "Le": objectives.le, "Ln": objectives.ln},
                "exceeded": exceedances(levels, objectives),
                "location": state.static.get("location") if state else None,
            }
        )
    return rows


DayQuery = Annotated[date, Query(description="Assessment day (local): 07:00 to 07:00 next day")]


def noise_day_router(table: ObjectivesTable) -> APIRouter:
    router = APIRouter(prefix="/ciudad/v1/services/noise", tags=["services: environment"])

    @router.get("/days", summary="Ld/Le/Ln/Lden per sensor for a day, with exceeded objectives")
    async def days(store: ReaderDep, tenant: TenantDep, day: DayQuery) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in row.items() if k != "location"}
            for row in await noise_days(store, tenant, day, table)
        ]

    @router.get("/objectives", summary="The acoustic quality objectives in force, per area")
    async def objectives() -> dict[str, Any]:
        return {area: o.model_dump() for area, o in table.items()}

    @router.get("/map.geojson", summary="A day's noise levels per sensor as GeoJSON points")
    async def noise_map(store: ReaderDep, tenant: TenantDep, day: DayQuery) -> dict[str, Any]:
        features = []
        for row in await noise_days(store, tenant, day, table):
            location = row.pop("location")
            geometry = location.get("value") if isinstance(location, dict) else None
            if geometry is None:
                continue
            features.append({"type": "Feature", "geometry": geometry, "properties": row})
        return {"type": "FeatureCollection", "features": features}

    return router
