"""Batches of readings written straight into a store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from acquisition import Batch, EntityRecord, Reading, ValueType

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
LOCATION = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.56, 42.6]}}


def _noise_batch(tenant: str, sensor: str, levels: list[float]) -> Batch:
    entity_id = f"urn:ngsi-ld:NoiseLevelObserved:{tenant}:{sensor}"
    readings = tuple(
        Reading(
            tenant,
            entity_id,
            "NoiseLevelObserved",
            "LAeq",
            T0 + timedelta(minutes=m),
            level,
            ValueType.NUMBER,
            "2N",
        )
        for m, level in enumerate(levels)
    )
    end = Reading(
        tenant,
        entity_id,
        "NoiseLevelObserved",
        "dateObservedTo",
        T0 + timedelta(minutes=len(levels) - 1),
        "2026-11-21T10:04:00Z",
        ValueType.DATETIME,
    )
    entity = EntityRecord(tenant, entity_id, "NoiseLevelObserved", {"location": LOCATION})
    return Batch((*readings, end), (entity,), ())
