"""The platform's service levels per tenant, computed from its own data.

- Ingest latency: the share of readings queryable (committed with their
  roll-ups) within ``slo_ingest_latency_s`` of their device timestamp.
- API availability: the share of the tenant's requests answered without a
  server error (what the API processes counted; an API that is down entirely
  answers nothing, so probe /health/ready from outside as well).
- Data completeness: per sensor, readings received over readings expected from
  its provisioned period; the objective holds when every sensor reaches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query

from interoperability import (
    DatabaseDep,
    ReaderDep,
    RegistryDep,
    TenantDep,
    api_counts,
    get_settings,
)
from knowledge import KnowledgeStore, TimeRange
from support import Settings
from support.times import iso_utc

WORST_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Objectives:
    latency_s: float
    latency_share: float
    availability: float
    completeness: float

    @classmethod
    def of(cls, settings: Settings) -> Objectives:
        return cls(
            settings.slo_ingest_latency_s,
            settings.slo_ingest_share,
            settings.slo_api_availability,
            settings.slo_completeness,
        )


class ExpectedSensor(Protocol):
    """What completeness needs of a provisioned device (the registry's devices are such)."""

    @property
    def tenant(self) -> str: ...

    @property
    def entity_id(self) -> str: ...

    @property
    def period_s(self) -> float: ...


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 5) if whole else None


def completeness(
    devices: Sequence[ExpectedSensor], received: dict[str, int], window_s: float, objective: float
) -> dict[str, Any]:
    per_sensor = sorted(
        (min(1.0, received.get(d.entity_id, 0) / max(1.0, window_s / d.period_s)), d.entity_id)
        for d in devices
    )
    meeting = sum(1 for share, _ in per_sensor if share >= objective)
    return {
        "objective": f"every sensor delivers {objective:.0%} of its expected readings",
        "sensors": len(per_sensor),
        "meeting": meeting,
        "mean": round(sum(s for s, _ in per_sensor) / len(per_sensor), 5) if per_sensor else None,
        "worst": [
            {"entity_id": e, "completeness": round(s, 5)} for s, e in per_sensor[:WORST_SHOWN]
        ],
        "met": meeting == len(per_sensor),
    }


async def service_levels(
    store: KnowledgeStore,
    devices: Sequence[ExpectedSensor],
    requests_errors: tuple[int, int],
    tenant: str,
    start: datetime,
    end: datetime,
    objectives: Objectives,
) -> dict[str, Any]:
    window = TimeRange(start, end)
    latency = await store.ingest_latency(tenant, window)
    within = latency.within(objectives.latency_s)
    latency_share = _share(within, latency.readings)
    requests, errors = requests_errors
    availability = _share(requests - errors, requests)
    window_s = (end - start).total_seconds()
    received = await store.readings_per_entity(tenant, window)
    return {
        "tenant": tenant,
        "window": {"start": iso_utc(start), "end": iso_utc(end)},
        "ingest_latency": {
            "objective": f"{objectives.latency_share:.0%} of readings queryable within "
            f"{objectives.latency_s:g} s of their timestamp",
            "readings": latency.readings,
            "within": within,
            "share": latency_share,
            "met": latency_share is not None and latency_share >= objectives.latency_share,
        },
        "api_availability": {
            "objective": f"{objectives.availability:.1%} of requests without a server error",
            "requests": requests,
            "server_errors": errors,
            "share": availability,
            "met": availability is None or availability >= objectives.availability,
        },
        "completeness": completeness(
            [d for d in devices if d.tenant == tenant],
            received,
            window_s,
            objectives.completeness,
        ),
    }


router = APIRouter(prefix="/ciudad/v1", tags=["platform"])


@router.get("/slo", summary="The tenant's service levels over the last hours")
async def slo(
    store: ReaderDep,
    tenant: TenantDep,
    registry: RegistryDep,
    db: DatabaseDep,
    settings: Annotated[Settings, Depends(get_settings)],
    hours: Annotated[float, Query(gt=0, le=24 * 31)] = 24.0,
) -> dict[str, Any]:
    end = datetime.now(UTC)
    start = end - timedelta(hours=hours)
    devices = (await registry.provisioning()).devices()
    counts = await api_counts(db, tenant, start, end)
    objectives = Objectives.of(settings)
    return await service_levels(store, devices, counts, tenant, start, end, objectives)
