"""NGSI-LD temporal evolution: GET /ngsi-ld/v1/temporal/entities/{id}."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from interoperability.auth.access import TenantDep
from interoperability.deps import (
    BadRequestError,
    EntityIdPath,
    InvalidRequestError,
    LdJsonDep,
    ReaderDep,
    check_time,
    ngsi_response,
)
from interoperability.ngsild import (
    CORE_CONTEXT,
    entity_types,
    render_temporal,
    simplified_temporal,
)
from interoperability.temporal.aggregation import (
    DISTINCT_COUNT,
    PERCENTILE_METHODS,
    parse_methods,
    parse_period,
    render_aggregated_attribute,
    render_distinct_counts,
)
from interoperability.temporal.bounds import (
    MaxInstancesDep,
    content_range,
    partial,
)
from interoperability.temporal.datasets import DATASET_ID_DOC, only_datasets, parse_dataset_ids
from interoperability.temporal.projection import TemporalProjectionDep
from interoperability.temporal.system_times import history_by
from knowledge import KnowledgeStore, SeriesAggregates, TimeRange
from support import NotFoundError
from support.times import from_epoch_us

TEMPORAL_OPTIONS = frozenset(
    {"temporalValues", "aggregatedValues", "normalized", "sysAttrs", "simplified", "keyValues"}
)
# the options naming a representation; ``format`` names one too, and takes precedence
REPRESENTATIONS = TEMPORAL_OPTIONS - {"sysAttrs"}


def temporal_options(options: str | None, format_: str | None) -> set[str]:
    """``options`` and ``format`` together; an unknown one is 400 InvalidRequest (6.3.7).
    ``simplified``/``keyValues`` are the temporal simplified representation. A
    representation ``format`` names replaces any ``options`` names (6.3.12)."""
    chosen = {o.strip() for o in (options or "").split(",") if o.strip()}
    if format_ in REPRESENTATIONS:
        chosen -= REPRESENTATIONS
    chosen |= {format_} if format_ else set()
    if chosen - TEMPORAL_OPTIONS:
        unknown = ", ".join(sorted(chosen - TEMPORAL_OPTIONS))[:100]
        raise InvalidRequestError(f"options/format {unknown}: see the temporal representations")
    return chosen | ({"temporalValues"} if chosen & {"simplified", "keyValues"} else set())


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
    time_at = check_time("timeAt", time_at)
    if end_time_at is not None:
        end_time_at = check_time("endTimeAt", end_time_at)
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
    entity_id: EntityIdPath,
    store: ReaderDep,
    tenant: TenantDep,
    ld_json: LdJsonDep,
    projection: TemporalProjectionDep,
    cap: MaxInstancesDep,
    timerel: TimeRel | None = None,
    time_at: Annotated[datetime | None, Query(alias="timeAt")] = None,
    end_time_at: Annotated[datetime | None, Query(alias="endTimeAt")] = None,
    attrs: Annotated[str | None, Query(description="Comma-separated attribute names")] = None,
    last_n: Annotated[int | None, Query(alias="lastN", ge=1, le=100_000)] = None,
    options: Annotated[str | None, Query(description="aggregatedValues")] = None,
    format_: Annotated[str | None, Query(alias="format", description="temporalValues")] = None,
    aggr_methods: Annotated[
        str | None, Query(alias="aggrMethods", description="e.g. avg,min,max,l90")
    ] = None,
    aggr_period: Annotated[
        str | None, Query(alias="aggrPeriodDuration", description="ISO 8601, e.g. PT1H")
    ] = None,
    dataset_id: Annotated[
        str | None, Query(alias="datasetId", max_length=8192, description=DATASET_ID_DOC)
    ] = None,
) -> Response:
    window = time_range(timerel, time_at, end_time_at)
    datasets = parse_dataset_ids(dataset_id)
    attr_list = [a for a in attrs.split(",") if a] if attrs else None
    wanted = temporal_options(options, format_)
    if "aggregatedValues" in wanted:
        request = AggregationRequest(parse_methods(aggr_methods or ""), parse_period(aggr_period))
        doc = await aggregated_entity(store, tenant, entity_id, attr_list, window, request)
        if ld_json:
            doc["@context"] = CORE_CONTEXT
        return ngsi_response(projection.apply(doc), ld_json)
    state = await store.get_entity(tenant, entity_id)
    found = await history_by(
        projection.timeproperty, store, tenant, entity_id, attr_list, window, last_n, cap
    )
    known = {a.name for a in state.attributes} | set(state.static)
    known |= {h.name for h in found.readings} | {k.attr for k in found.kept}
    if attr_list and not set(attr_list) & known:
        raise NotFoundError(f"{entity_id} has none of the attributes asked for")
    found = only_datasets(found, datasets)
    doc = render_temporal(state, found.readings, found.kept, ld_json, projection.timeproperty)
    if "temporalValues" in wanted:
        doc = simplified_temporal(doc, projection.timeproperty)
    answer = ngsi_response(projection.apply(doc), ld_json)
    return partial(answer, content_range([found], last_n, window))


@dataclass(frozen=True, slots=True)
class AggregationRequest:
    methods: list[str]
    period_s: int | None  # None: one period over the whole window


async def aggregated_entity(
    store: KnowledgeStore,
    tenant: str,
    entity_id: EntityIdPath,
    attr_list: list[str] | None,
    window: TimeRange,
    request: AggregationRequest,
) -> dict[str, Any]:
    """The entity with each numeric attribute aggregated per period."""
    state = await store.get_entity(tenant, entity_id)
    percentiles = bool(PERCENTILE_METHODS & set(request.methods))
    doc: dict[str, Any] = {"id": state.entity_id, "type": entity_types(state)}
    # NGSI-LD 4.5.19: periods start at timeAt, or at the first instance without one
    origin: datetime | Literal["first"] | None = None
    if request.period_s:
        origin = window.start or "first"
    for attr in state.attributes:
        if not isinstance(attr.value, float) or (attr_list and attr.name not in attr_list):
            continue
        # Without a period: partials of 15 min (1 min without percentiles) merged into one.
        period_s = request.period_s or (900 if percentiles else 60)
        aggregates = await store.aggregate(
            tenant, attr.name, period_s, window, entity_ids=[entity_id],
            percentiles=percentiles, origin=origin,
        )  # fmt: skip
        whole = None if request.period_s else _whole_window(aggregates, window)
        rendered = render_aggregated_attribute(aggregates, request.methods, whole)
        if rendered is not None and DISTINCT_COUNT in request.methods:
            counts = await store.distinct_counts(
                tenant, entity_id, attr.name, request.period_s, window
            )
            rendered[DISTINCT_COUNT] = render_distinct_counts(counts, request.period_s, whole)
        if rendered is not None:
            if attr.unit_code:
                rendered["unitCode"] = attr.unit_code
            doc[attr.name] = rendered
    return doc


def _whole_window(aggregates: SeriesAggregates, window: TimeRange) -> tuple[datetime, datetime]:
    p = aggregates.partials
    first = from_epoch_us(int(p.first_at.min(initial=0)))
    last = from_epoch_us(int(p.last_at.max(initial=0)))
    return (window.start or first, window.end or last)
