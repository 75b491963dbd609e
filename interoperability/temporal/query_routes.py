"""NGSI-LD query temporal evolution of entities: GET /ngsi-ld/v1/temporal/entities (5.7.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from interoperability.auth.access import TenantDep
from interoperability.deps import (
    BadRequestError,
    LdJsonDep,
    ReaderDep,
    ngsi_response,
    parse_time,
)
from interoperability.entities.order_by import ORDER_BY_DOC, ordered
from interoperability.entities.query_post import query_of
from interoperability.entities.read_routes import GeoParams, entity_query
from interoperability.ngsild import CORE_CONTEXT, render_temporal, simplified_temporal
from interoperability.temporal.aggregation import parse_methods, parse_period
from interoperability.temporal.bounds import (
    MaxInstancesDep,
    content_range,
    partial,
)
from interoperability.temporal.datasets import (
    DATASET_ID_DOC,
    only_datasets,
    parse_dataset_ids,
)
from interoperability.temporal.projection import TemporalProjection, TemporalProjectionDep
from interoperability.temporal.read_routes import (
    AggregationRequest,
    TimeRel,
    aggregated_entity,
    temporal_options,
    time_range,
)
from interoperability.temporal.system_times import history_by
from knowledge import EntityQuery, KnowledgeStore, TimeRange

router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["temporal"])

MAX_LIMIT = 1000


@router.get("/entities", summary="Query the temporal evolution of entities")
async def query_temporal_entities(
    store: ReaderDep,
    tenant: TenantDep,
    ld_json: LdJsonDep,
    projection: TemporalProjectionDep,
    cap: MaxInstancesDep,
    type_: Annotated[str | None, Query(alias="type")] = None,
    ids: Annotated[str | None, Query(alias="id")] = None,
    id_pattern: Annotated[str | None, Query(alias="idPattern", max_length=256)] = None,
    q: Annotated[str | None, Query()] = None,
    scope_q: Annotated[str | None, Query(alias="scopeQ", max_length=4096)] = None,
    attrs: Annotated[str | None, Query()] = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: Annotated[str | None, Query(max_length=100_000)] = None,
    geoproperty: str = "location",
    timerel: TimeRel | None = None,
    time_at: Annotated[datetime | None, Query(alias="timeAt")] = None,
    end_time_at: Annotated[datetime | None, Query(alias="endTimeAt")] = None,
    last_n: Annotated[int | None, Query(alias="lastN", ge=1, le=100_000)] = None,
    options: str | None = None,
    format_: Annotated[str | None, Query(alias="format")] = None,
    aggr_methods: Annotated[str | None, Query(alias="aggrMethods")] = None,
    aggr_period: Annotated[str | None, Query(alias="aggrPeriodDuration")] = None,
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    count: Annotated[bool, Query()] = False,
    order_by: Annotated[
        str | None, Query(alias="orderBy", max_length=1024, description=ORDER_BY_DOC)
    ] = None,
    dataset_id: Annotated[
        str | None, Query(alias="datasetId", max_length=8192, description=DATASET_ID_DOC)
    ] = None,
) -> Response:
    if not any((type_, ids, id_pattern, q, scope_q, attrs, georel)):
        raise BadRequestError("say which entities: type, id, idPattern, q, scopeQ, attrs or georel")
    window = time_range(timerel, time_at, end_time_at)
    geo = GeoParams(georel, geometry, coordinates, geoproperty)
    query = ordered(entity_query(type_, ids, id_pattern, q, geo, scope_q), order_by)
    asked = TemporalAsk(
        window,
        [a for a in attrs.split(",") if a] if attrs else None,
        temporal_options(options, format_),
        last_n,
        aggr_methods,
        aggr_period,
        cap,
        parse_dataset_ids(dataset_id),
    )
    docs = await temporal_documents(store, tenant, query, asked, Page(limit, offset), projection)
    return await _answer(store, tenant, query, docs, ld_json, count)


@dataclass(frozen=True, slots=True)
class TemporalAsk:
    """What a temporal query asks of each entity it selects."""

    window: TimeRange
    attrs: list[str] | None
    options: set[str]
    last_n: int | None = None
    aggr_methods: str | None = None
    aggr_period: str | None = None
    cap: int = 10_000  # instances per attribute and entity (CIUDAD_TEMPORAL_MAX_INSTANCES)
    datasets: frozenset[str] | None = None  # datasetId: only these ("@none": the default)


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class Documents:
    docs: list[dict[str, Any]]
    content_range: str | None  # when one entity's history was cut (206)


async def temporal_documents(
    store: KnowledgeStore,
    tenant: str,
    query: EntityQuery,
    asked: TemporalAsk,
    page: Page,
    projection: TemporalProjection,
) -> Documents:
    """The temporal evolution of each entity of the page, as asked."""
    states = await store.list_entities(tenant, None, page.limit, page.offset, query)
    docs, found = [], []
    for state in states if page.limit else []:
        if "aggregatedValues" in asked.options:
            request = AggregationRequest(
                parse_methods(asked.aggr_methods or ""), parse_period(asked.aggr_period)
            )
            doc = await aggregated_entity(
                store, tenant, state.entity_id, asked.attrs, asked.window, request
            )
        else:
            history = await history_by(
                projection.timeproperty, store, tenant, state.entity_id, asked.attrs,
                asked.window, asked.last_n, asked.cap,
            )  # fmt: skip
            # filtered once read: lastN and the cap count every dataset's instances
            history = only_datasets(history, asked.datasets)
            found.append(history)
            doc = render_temporal(
                state, history.readings, history.kept, False, projection.timeproperty
            )
            if "temporalValues" in asked.options:
                doc = simplified_temporal(doc, projection.timeproperty)
        bounded = asked.window.start is not None or asked.window.end is not None
        if bounded and not set(doc) - {"id", "type"}:
            continue  # nothing of it in the time asked for: not a match (NGSI-LD 5.7.4)
        docs.append(projection.apply(doc, strict=False))
    return Documents(docs, content_range(found, asked.last_n, asked.window))


async def _answer(
    store: KnowledgeStore,
    tenant: str,
    query: EntityQuery,
    found: Documents,
    ld_json: bool,
    count: bool,
) -> Response:
    context = {"@context": CORE_CONTEXT} if ld_json else {}
    headers = {}
    if count:
        headers["NGSILD-Results-Count"] = str(await store.count_entities(tenant, None, query))
    return partial(ngsi_response([d | context for d in found.docs], ld_json, headers),
                   found.content_range)  # fmt: skip


@router.post("/entityOperations/query", summary="Query the temporal evolution by POST")
async def query_temporal_by_post(
    body: Annotated[dict[str, Any], Body(description="A Query with temporalQ")],
    store: ReaderDep,
    tenant: TenantDep,
    ld_json: LdJsonDep,
    projection: TemporalProjectionDep,
    cap: MaxInstancesDep,
    options: str | None = None,
    format_: Annotated[str | None, Query(alias="format")] = None,
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    count: Annotated[bool, Query()] = False,
    order_by: Annotated[
        str | None, Query(alias="orderBy", max_length=1024, description=ORDER_BY_DOC)
    ] = None,
) -> Response:
    """NGSI-LD 5.7.4 by POST: ``entities``, ``attrs``, ``q``, ``geoQ`` as for
    /entityOperations/query, and ``temporalQ`` (timerel, timeAt, endTimeAt, lastN)."""
    query = ordered(query_of(body), order_by)
    temporal = body.get("temporalQ") or {}
    if not isinstance(temporal, dict):
        raise BadRequestError("temporalQ must be an object (timerel, timeAt, endTimeAt)")
    window = time_range(*_temporal_q(temporal))
    attrs = body.get("attrs")
    asked = TemporalAsk(
        window,
        [str(a) for a in attrs] if isinstance(attrs, list) and attrs else None,
        temporal_options(options, format_),
        _last_n(temporal.get("lastN")),
        cap=cap,
    )
    docs = await temporal_documents(store, tenant, query, asked, Page(limit, offset), projection)
    return await _answer(store, tenant, query, docs, ld_json, count)


def _temporal_q(temporal: dict[str, Any]) -> tuple[TimeRel | None, Any, Any]:
    timerel = temporal.get("timerel")
    try:
        relation = TimeRel(timerel) if timerel is not None else None
    except ValueError:
        raise BadRequestError("temporalQ.timerel must be before, after or between") from None
    return relation, _time("timeAt", temporal), _time("endTimeAt", temporal)


def _time(member: str, temporal: dict[str, Any]) -> datetime | None:
    text = temporal.get(member)
    return None if text is None else parse_time(f"temporalQ.{member}", text)


def _last_n(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100_000:
        raise BadRequestError("temporalQ.lastN must be an integer from 1 to 100000")
    return value
