"""Environment vertical, air: the hourly European Air Quality Index per station.

The EEA index (2021 bands) rates each pollutant's hourly mean in six bands
and takes the worst; the pollutant that sets it is the dominant one. A value
on a band's upper edge belongs to that band (10 ug/m3 of PM2.5 is good).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from fastapi import APIRouter

from interoperability import (
    EndTimeAtQuery,
    ReaderDep,
    TenantDep,
    TimeAtQuery,
    checked_range,
)
from knowledge import KnowledgeStore, SeriesAggregates, TimeRange
from support.times import from_epoch_us, iso_utc

AIR_TYPE = "AirQualityObserved"
BANDS = ("good", "fair", "moderate", "poor", "very poor", "extremely poor")
# Upper edges (ug/m3, hourly means) of the first five bands; above the last: extremely poor.
EDGES: dict[str, tuple[float, float, float, float, float]] = {
    "pm25": (10, 20, 25, 50, 75),
    "pm10": (20, 40, 50, 100, 150),
    "no2": (40, 90, 120, 230, 340),
    "o3": (50, 100, 130, 240, 380),
}
HOUR_S = 3600


def band_of(pollutant: str, value: float) -> int:
    """0 (good) to 5 (extremely poor)."""
    return next((i for i, edge in enumerate(EDGES[pollutant]) if value <= edge), len(BANDS) - 1)


@dataclass(frozen=True, slots=True)
class AirQualityIndex:
    band: int
    dominant: str
    per_pollutant: dict[str, int]

    @property
    def label(self) -> str:
        return BANDS[self.band]


def air_quality_index(hourly_means: dict[str, float]) -> AirQualityIndex | None:
    """The index of one station-hour from the pollutants it measured (None if none)."""
    rated = {p: band_of(p, v) for p, v in hourly_means.items() if p in EDGES}
    if not rated:
        return None
    # Ties go to the pollutant listed first in EDGES (particles before gases).
    dominant = max(EDGES, key=lambda p: (rated.get(p, -1), -list(EDGES).index(p)))
    return AirQualityIndex(rated[dominant], dominant, rated)


def hourly_means(aggregates: SeriesAggregates) -> dict[tuple[str, datetime], float]:
    """(entity, hour start) -> arithmetic mean of one pollutant."""
    p = aggregates.partials
    means = p.total / np.maximum(p.count, 1)
    return {
        (aggregates.entity_ids[s], from_epoch_us(int(b))): float(m)
        for s, b, m, n in zip(p.series.tolist(), p.bucket.tolist(), means, p.count, strict=True)
        if n > 0
    }


async def station_hours(
    store: KnowledgeStore, tenant: str, window: TimeRange
) -> dict[tuple[str, datetime], dict[str, float]]:
    """Per (station, hour): the hourly mean of each pollutant measured."""
    out: dict[tuple[str, datetime], dict[str, float]] = defaultdict(dict)
    for pollutant in EDGES:
        aggregates = await store.aggregate(tenant, pollutant, HOUR_S, window, AIR_TYPE)
        for key, mean in hourly_means(aggregates).items():
            out[key][pollutant] = mean
    return out


router = APIRouter(prefix="/ciudad/v1/services/air", tags=["services: environment"])


@router.get("/aqi", summary="Hourly European Air Quality Index per station")
async def aqi(
    store: ReaderDep,
    tenant: TenantDep,
    time_at: TimeAtQuery,
    end_time_at: EndTimeAtQuery,
) -> list[dict[str, Any]]:
    start, end = checked_range(time_at, end_time_at, max_days=31)
    rows = []
    for (station, hour), means in sorted(
        (await station_hours(store, tenant, TimeRange(start, end))).items()
    ):
        index = air_quality_index(means)
        if index is not None:
            rows.append(
                {
                    "id": station,
                    "hour": iso_utc(hour),
                    "band": index.band + 1,
                    "label": index.label,
                    "dominant": index.dominant,
                    "means": {p: round(v, 1) for p, v in sorted(means.items())},
                }
            )
    return rows
