"""Environment vertical, noise: per-sensor energetic Leq over a requested period."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query

from interoperability import (
    EndTimeAtQuery,
    ReaderDep,
    TenantDep,
    TimeAtQuery,
    checked_range,
)
from knowledge import SeriesAggregates, TimeRange, per_series
from support.times import iso_utc

NOISE_TYPE = "NoiseLevelObserved"
LEQ_ATTRIBUTE = "LAeq"


@dataclass(frozen=True, slots=True)
class SensorLeq:
    """Energetic average of one sensor's LAeq readings over a period."""

    entity_id: str
    leq_db: float
    readings: int


def leq_per_sensor(aggregates: SeriesAggregates) -> list[SensorLeq]:
    """One energetic mean per sensor over all the partials' windows; sensors without
    readings are left out."""
    whole = per_series(aggregates.partials)
    return [
        SensorLeq(aggregates.entity_ids[code], round(float(leq), 2), int(count))
        for code, leq, count in zip(
            whole.series.tolist(), whole.energetic_mean_db(), whole.count, strict=True
        )
    ]


router = APIRouter(prefix="/ciudad/v1/services/noise", tags=["services: environment"])


@router.get("/leq", summary="Energetic mean LAeq per noise sensor over a period")
async def noise_leq(
    store: ReaderDep,
    tenant: TenantDep,
    time_at: TimeAtQuery,
    end_time_at: EndTimeAtQuery,
    entity_id: Annotated[str | None, Query(alias="id")] = None,
) -> list[dict[str, Any]]:
    time_at, end_time_at = checked_range(time_at, end_time_at)
    # Minute partials: read from the roll-ups when the period is on whole minutes.
    aggregates = await store.aggregate(
        tenant,
        LEQ_ATTRIBUTE,
        60,
        TimeRange(time_at, end_time_at),
        entity_type=NOISE_TYPE,
        entity_ids=None if entity_id is None else [entity_id],
    )
    return [
        {
            "id": r.entity_id,
            "LAeq": r.leq_db,
            "unitCode": "2N",
            "readings": r.readings,
            "timeAt": iso_utc(time_at),
            "endTimeAt": iso_utc(end_time_at),
        }
        for r in leq_per_sensor(aggregates)
    ]
