"""Open data: an entity type over a time range as CSV (every observation) or GeoJSON
(one feature per entity with per-attribute statistics over the range)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from interoperability.auth.access import TenantDep
from interoperability.deps import (
    EndTimeAtQuery,
    StoreDep,
    TimeAtQuery,
    checked_range,
)
from knowledge import EntityState, KnowledgeStore, TimeRange, per_series
from support.times import iso_utc

router = APIRouter(prefix="/ciudad/v1/opendata", tags=["open data"])
CSV_COLUMNS = ("entity_id", "observed_at", "attribute", "value", "unit_code")
MAX_ENTITIES = 10_000


def _window(time_at: datetime, end_time_at: datetime) -> TimeRange:
    return TimeRange(*checked_range(time_at, end_time_at))


def _attrs(text: str | None) -> list[str] | None:
    return [a for a in text.split(",") if a] if text else None


Attrs = Annotated[str | None, Query(description="Comma-separated attribute names")]
# Type names end up in a file name and a header: letters, digits and _ - . : only.
EntityType = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,256}$")]


@router.get("", summary="The open-data catalogue: what this tenant can export")
async def catalogue(store: StoreDep, tenant: TenantDep) -> list[dict[str, Any]]:
    entries = []
    for entity_type, count in (await store.entity_types(tenant)).items():
        if count:
            base = f"{router.prefix}/{entity_type}"
            entries.append(
                {
                    "entityType": entity_type,
                    "entities": count,
                    "csv": f"{base}.csv?timeAt={{start}}&endTimeAt={{end}}",
                    "geojson": f"{base}.geojson?timeAt={{start}}&endTimeAt={{end}}",
                }
            )
    return entries


@router.get("/{entity_type}.csv", summary="Every observation of a type in a range, as CSV")
async def export_csv(
    entity_type: EntityType,
    store: StoreDep,
    tenant: TenantDep,
    time_at: TimeAtQuery,
    end_time_at: EndTimeAtQuery,
    attrs: Attrs = None,
) -> StreamingResponse:
    window = _window(time_at, end_time_at)

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        async for row in store.export_rows(tenant, entity_type, _attrs(attrs), window):
            writer.writerow(
                (row.entity_id, iso_utc(row.observed_at), row.attr, row.value, row.unit_code or "")
            )
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    filename = f"{tenant}-{entity_type}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/{entity_type}.geojson", summary="A type's entities with statistics over a range")
async def export_geojson(
    entity_type: EntityType,
    store: StoreDep,
    tenant: TenantDep,
    time_at: TimeAtQuery,
    end_time_at: EndTimeAtQuery,
    attrs: Attrs = None,
) -> StreamingResponse:
    window = _window(time_at, end_time_at)
    states = await store.list_entities(tenant, entity_type, MAX_ENTITIES, 0)
    names = _attrs(attrs) or sorted(
        {a.name for s in states for a in s.attributes if isinstance(a.value, float)}
    )
    statistics = {
        name: await _statistics(store, tenant, entity_type, name, window) for name in names
    }
    collection = {
        "type": "FeatureCollection",
        "features": [_feature(state, statistics) for state in states],
    }
    body = json.dumps(collection, ensure_ascii=False)
    return StreamingResponse(iter([body]), media_type="application/geo+json")


async def _statistics(
    store: KnowledgeStore, tenant: str, entity_type: str, attr: str, window: TimeRange
) -> dict[str, dict[str, Any]]:
    """Per entity: count, avg (energetic for dB), min and max of the attribute."""
    aggregates = await store.aggregate(tenant, attr, 60, window, entity_type)
    whole = per_series(aggregates.partials)
    energetic = [aggregates.energetic[s] for s in whole.series.tolist()]
    averages = [
        leq if db else mean
        for leq, mean, db in zip(whole.energetic_mean_db(), whole.mean(), energetic, strict=True)
    ]
    return {
        aggregates.entity_ids[s]: {
            "count": int(n),
            "avg": round(float(avg), 3),
            "min": float(lo),
            "max": float(hi),
        }
        for s, n, avg, lo, hi in zip(
            whole.series.tolist(), whole.count, averages, whole.minimum, whole.maximum, strict=True
        )
    }


def _feature(
    state: EntityState, statistics: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, Any]:
    location = state.static.get("location", {})
    geometry = location.get("value") if isinstance(location, dict) else None
    properties: dict[str, Any] = {"id": state.entity_id, "type": state.entity_type}
    properties.update({k: v for k, v in state.static.items() if k != "location"})
    for attr, per_entity in statistics.items():
        if state.entity_id in per_entity:
            properties[attr] = per_entity[state.entity_id]
    return {
        "type": "Feature",
        "id": state.entity_id,
        "geometry": geometry,
        "properties": properties,
    }
