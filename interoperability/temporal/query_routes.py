"""NGSI-LD query temporal evolution of entities: GET /ngsi-ld/v1/temporal/entities (5.7.4)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from interoperability.auth.access import TenantDep
from interoperability.deps import BadRequestError, LdJsonDep, StoreDep, ngsi_response
from interoperability.entities.read_routes import GeoParams, entity_query
from interoperability.ngsild import CORE_CONTEXT, render_temporal, simplified_temporal
from interoperability.temporal.aggregation import parse_methods, parse_period
from interoperability.temporal.projection import TemporalProjectionDep
from interoperability.temporal.read_routes import (
    AggregationRequest,
    TimeRel,
    aggregated_entity,
    temporal_options,
    time_range,
)

router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["temporal"])

MAX_LIMIT = 1000


@router.get("/entities", summary="Query the temporal evolution of entities")
async def query_temporal_entities(
    store: StoreDep,
    tenant: TenantDep,
    ld_json: LdJsonDep,
    projection: TemporalProjectionDep,
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
) -> Response:
    if not any((type_, ids, id_pattern, q, scope_q, attrs, georel)):
        raise BadRequestError("say which entities: type, id, idPattern, q, scopeQ, attrs or georel")
    window = time_range(timerel, time_at, end_time_at)
    geo = GeoParams(georel, geometry, coordinates, geoproperty)
    query = entity_query(type_, ids, id_pattern, q, geo, scope_q)
    attr_list = [a for a in attrs.split(",") if a] if attrs else None
    wanted = temporal_options(options, format_)
    states = await store.list_entities(tenant, None, limit, offset, query) if limit else []
    docs = []
    for state in states:
        if "aggregatedValues" in wanted:
            request = AggregationRequest(
                parse_methods(aggr_methods or ""), parse_period(aggr_period)
            )
            doc = await aggregated_entity(
                store, tenant, state.entity_id, attr_list, window, request
            )
        else:
            entity_id = state.entity_id
            histories = await store.history(tenant, entity_id, attr_list, window, last_n)
            kept = await store.instance_history(tenant, entity_id, attr_list, window, last_n)
            doc = render_temporal(state, histories, kept, False)
            doc = simplified_temporal(doc) if "temporalValues" in wanted else doc
        docs.append(
            projection.apply(doc, strict=False) | ({"@context": CORE_CONTEXT} if ld_json else {})
        )
    headers = (
        {"NGSILD-Results-Count": str(await store.count_entities(tenant, None, query))}
        if count
        else {}
    )
    return ngsi_response(docs, ld_json, headers)
