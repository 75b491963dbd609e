"""NGSI-LD temporal evolution: GET /ngsi-ld/v1/temporal/entities/{id}."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response

from interoperability.deps import BadRequestError, LdJsonDep, StoreDep, TenantDep
from interoperability.entities_routes import ngsi_response
from interoperability.ngsild import render_temporal
from knowledge import TimeRange


class TimeRel(StrEnum):
    BEFORE = "before"
    AFTER = "after"
    BETWEEN = "between"


def time_range(
    timerel: TimeRel | None, time_at: datetime | None, end_time_at: datetime | None
) -> TimeRange:
    """NGSI-LD temporal query -> half-open range (before: < timeAt; after: >= timeAt)."""
    if timerel is None:
        if time_at is not None or end_time_at is not None:
            raise BadRequestError("timeAt/endTimeAt need timerel")
        return TimeRange()
    if time_at is None:
        raise BadRequestError(f"timerel={timerel.value} needs timeAt")
    for stamp in (time_at, end_time_at):
        if stamp is not None and stamp.tzinfo is None:
            raise BadRequestError("timeAt/endTimeAt must carry a timezone (e.g. Z)")
    if timerel is TimeRel.BEFORE:
        return TimeRange(end=time_at)
    if timerel is TimeRel.AFTER:
        return TimeRange(start=time_at)
    if end_time_at is None:
        raise BadRequestError("timerel=between needs endTimeAt")
    if end_time_at <= time_at:
        raise BadRequestError("endTimeAt must be after timeAt")
    return TimeRange(start=time_at, end=end_time_at)


router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["temporal"])


@router.get("/entities/{entity_id}", summary="Retrieve the temporal evolution of an entity")
async def retrieve_temporal_entity(
    entity_id: str,
    store: StoreDep,
    tenant: TenantDep,
    ld_json: LdJsonDep,
    timerel: TimeRel | None = None,
    time_at: Annotated[datetime | None, Query(alias="timeAt")] = None,
    end_time_at: Annotated[datetime | None, Query(alias="endTimeAt")] = None,
    attrs: Annotated[str | None, Query(description="Comma-separated attribute names")] = None,
    last_n: Annotated[int | None, Query(alias="lastN", ge=1, le=100_000)] = None,
) -> Response:
    window = time_range(timerel, time_at, end_time_at)
    attr_list = [a for a in attrs.split(",") if a] if attrs else None
    state = await store.get_entity(tenant, entity_id)
    histories = await store.history(tenant, entity_id, attr_list, window, last_n)
    return ngsi_response(render_temporal(state, histories, ld_json), ld_json)
