"""The HTTP API over a real PostgreSQL store: NGSI-LD shapes, queries, errors, tenants."""

from __future__ import annotations

import httpx
import pytest

from interoperability import CORE_CONTEXT
from tests.helpers.batches import LOCATION

pytestmark = pytest.mark.integration


async def test_entities_by_type_are_normalized_ngsi_ld(client: httpx.AsyncClient) -> None:
    response = await client.get("/ngsi-ld/v1/entities", params={"type": "NoiseLevelObserved"})
    assert response.status_code == 200
    assert CORE_CONTEXT in response.headers["link"]
    entities = response.json()
    assert [e["id"] for e in entities] == [
        "urn:ngsi-ld:NoiseLevelObserved:leon:n1",
        "urn:ngsi-ld:NoiseLevelObserved:leon:n2",
    ]
    first = entities[0]
    assert first["LAeq"] == {
        "type": "Property",
        "value": 60.0,
        "unitCode": "2N",
        "observedAt": "2026-11-21T10:04:00Z",
    }
    assert first["dateObservedTo"]["value"] == {
        "@type": "DateTime",
        "@value": "2026-11-21T10:04:00Z",
    }
    assert first["location"] == LOCATION


async def test_pagination_and_count(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/ngsi-ld/v1/entities", params={"limit": 1, "offset": 1, "count": "true"}
    )
    assert [e["id"] for e in response.json()] == ["urn:ngsi-ld:NoiseLevelObserved:leon:n2"]
    assert response.headers["NGSILD-Results-Count"] == "2"


async def test_ld_json_puts_the_context_in_the_body(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/ngsi-ld/v1/entities/urn:ngsi-ld:NoiseLevelObserved:leon:n2",
        headers={"Accept": "application/ld+json"},
    )
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.json()["@context"] == CORE_CONTEXT


async def test_tenant_header_selects_the_tenant(client: httpx.AsyncClient) -> None:
    response = await client.get("/ngsi-ld/v1/entities", headers={"NGSILD-Tenant": "ponferrada"})
    assert [e["id"] for e in response.json()] == ["urn:ngsi-ld:NoiseLevelObserved:ponferrada:p1"]
    other = await client.get(
        "/ngsi-ld/v1/entities/urn:ngsi-ld:NoiseLevelObserved:leon:n1",
        headers={"NGSILD-Tenant": "ponferrada"},
    )
    assert other.status_code == 404


async def test_unknown_entity_is_a_problem_details_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Nothing:1")
    assert response.status_code == 404
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"


async def test_temporal_between_is_start_inclusive_end_exclusive(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:NoiseLevelObserved:leon:n1",
        params={
            "timerel": "between",
            "timeAt": "2026-11-21T10:01:00Z",
            "endTimeAt": "2026-11-21T10:03:00Z",
            "attrs": "LAeq",
        },
    )
    assert response.status_code == 200
    instances = response.json()["LAeq"]
    assert [(i["value"], i["observedAt"]) for i in instances] == [
        (70.0, "2026-11-21T10:01:00Z"),
        (60.0, "2026-11-21T10:02:00Z"),
    ]
    assert instances[0]["unitCode"] == "2N"


async def test_temporal_last_n(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:NoiseLevelObserved:leon:n1",
        params={"lastN": 2},
    )
    assert [i["value"] for i in response.json()["LAeq"]] == [70.0, 60.0]


@pytest.mark.parametrize(
    "params",
    [
        {"timerel": "between", "timeAt": "2026-11-21T10:00:00Z"},
        {"timerel": "after"},
        {"timerel": "sometime", "timeAt": "2026-11-21T10:00:00Z"},
        {"timerel": "before", "timeAt": "not a time"},
        {"timerel": "before", "timeAt": "2026-11-21T10:00:00"},
        {"timeAt": "2026-11-21T10:00:00Z"},
        {"lastN": 0},
        {
            "timerel": "between",
            "timeAt": "2026-11-21T11:00:00Z",
            "endTimeAt": "2026-11-21T10:00:00Z",
        },
        {"options": "aggregatedValues", "aggrMethods": "median"},
        {"options": "aggregatedValues"},
        {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "P1M"},
        {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "PT0S"},
    ],
)
async def test_bad_temporal_parameters_are_400_bad_request_data(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get(
        "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:NoiseLevelObserved:leon:n1", params=params
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/BadRequestData")


N1 = "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:NoiseLevelObserved:leon:n1"
HOUR_WINDOW = {
    "timerel": "between",
    "timeAt": "2026-11-21T10:00:00Z",
    "endTimeAt": "2026-11-21T11:00:00Z",
}


async def test_aggregated_avg_of_a_db_attribute_is_energetic(client: httpx.AsyncClient) -> None:
    # n1: 60, 70, 60, 70, 60 dB. Leq = 10 lg((3e6 + 2e7) / 5) = 66.63 dB; plain mean 64.
    response = await client.get(
        N1,
        params={
            **HOUR_WINDOW,
            "options": "aggregatedValues",
            "aggrMethods": "avg,arithmeticAvg,min,max,totalCount,stddev,sum",
        },
    )
    assert response.status_code == 200, response.text
    laeq = response.json()["LAeq"]
    period = ["2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z"]
    assert laeq["type"] == "Property"
    assert laeq["unitCode"] == "2N"
    assert laeq["avg"] == [[pytest.approx(66.627578), *period]]
    assert laeq["arithmeticAvg"] == [[64.0, *period]]
    assert (laeq["min"], laeq["max"], laeq["totalCount"]) == (
        [[60.0, *period]],
        [[70.0, *period]],
        [[5.0, *period]],
    )
    assert laeq["stddev"] == [[pytest.approx(24**0.5), *period]]
    assert laeq["sum"] == [[320.0, *period]]


async def test_aggregated_values_per_period(client: httpx.AsyncClient) -> None:
    response = await client.get(
        N1,
        params={
            **HOUR_WINDOW,
            "options": "aggregatedValues",
            "aggrMethods": "totalCount,max",
            "aggrPeriodDuration": "PT2M",
        },
    )
    laeq = response.json()["LAeq"]
    assert laeq["totalCount"] == [
        [2.0, "2026-11-21T10:00:00Z", "2026-11-21T10:02:00Z"],
        [2.0, "2026-11-21T10:02:00Z", "2026-11-21T10:04:00Z"],
        [1.0, "2026-11-21T10:04:00Z", "2026-11-21T10:06:00Z"],
    ]
    assert [m[0] for m in laeq["max"]] == [70.0, 70.0, 60.0]


async def test_aggregated_distinct_count(client: httpx.AsyncClient) -> None:
    # n1: 60, 70, 60, 70, 60 -> two distinct levels; per 2 minutes: 2, 2, 1.
    whole = await client.get(
        N1, params={**HOUR_WINDOW, "options": "aggregatedValues", "aggrMethods": "distinctCount"}
    )
    assert whole.json()["LAeq"]["distinctCount"] == [
        [2.0, "2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z"]
    ]
    periods = await client.get(
        N1,
        params={
            **HOUR_WINDOW,
            "options": "aggregatedValues",
            "aggrMethods": "distinctCount,totalCount",
            "aggrPeriodDuration": "PT2M",
        },
    )
    laeq = periods.json()["LAeq"]
    assert laeq["distinctCount"] == [
        [2.0, "2026-11-21T10:00:00Z", "2026-11-21T10:02:00Z"],
        [2.0, "2026-11-21T10:02:00Z", "2026-11-21T10:04:00Z"],
        [1.0, "2026-11-21T10:04:00Z", "2026-11-21T10:06:00Z"],
    ]
    assert [v[1] for v in laeq["totalCount"]] == [v[1] for v in laeq["distinctCount"]]


async def test_aggregated_percentile_extensions(client: httpx.AsyncClient) -> None:
    response = await client.get(
        N1,
        params={
            **HOUR_WINDOW,
            "options": "aggregatedValues",
            "aggrMethods": "l10,l90,leq",
            "aggrPeriodDuration": "PT1H",
        },
    )
    laeq = response.json()["LAeq"]
    (l10,), (l90,) = ([v[0] for v in laeq["l10"]], [v[0] for v in laeq["l90"]])
    assert 70.0 <= l10 <= 70.5, "exceeded 10% of the time: the loud minutes"
    assert 60.0 <= l90 <= 60.5
    assert laeq["leq"][0][0] == pytest.approx(66.627578)


OPEN_RANGE = {"timeAt": "2026-11-21T10:00:00Z", "endTimeAt": "2026-11-21T10:03:00Z"}


async def test_open_data_csv_has_every_observation_of_the_type(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/ciudad/v1/opendata/NoiseLevelObserved.csv", params=OPEN_RANGE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="leon-NoiseLevelObserved.csv"' in response.headers["content-disposition"]
    rows = [line.split(",") for line in response.text.strip().splitlines()]
    assert rows[0] == ["entity_id", "observed_at", "attribute", "value", "unit_code"]
    n1 = "urn:ngsi-ld:NoiseLevelObserved:leon:n1"
    assert rows[1:4] == [
        [n1, "2026-11-21T10:00:00Z", "LAeq", "60.0", "2N"],
        [n1, "2026-11-21T10:01:00Z", "LAeq", "70.0", "2N"],
        [n1, "2026-11-21T10:02:00Z", "LAeq", "60.0", "2N"],
    ]
    assert len(rows) == 1 + 3 + 2, "n1's three minutes and n2's two; not ponferrada's"


async def test_open_data_geojson_has_a_feature_per_entity_with_statistics(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/ciudad/v1/opendata/NoiseLevelObserved.geojson", params=OPEN_RANGE)
    assert response.headers["content-type"] == "application/geo+json"
    collection = response.json()
    features = {f["id"]: f for f in collection["features"]}
    n1 = features["urn:ngsi-ld:NoiseLevelObserved:leon:n1"]
    assert n1["geometry"] == {"type": "Point", "coordinates": [-5.56, 42.6]}
    # 60, 70, 60 dB: energetic mean 10 lg((2e6 + 1e7) / 3) = 66.02 dB.
    assert n1["properties"]["LAeq"] == {"count": 3, "avg": 66.021, "min": 60.0, "max": 70.0}
    assert features["urn:ngsi-ld:NoiseLevelObserved:leon:n2"]["properties"]["LAeq"]["count"] == 2


async def test_open_data_catalogue_lists_what_the_tenant_has(client: httpx.AsyncClient) -> None:
    catalogue = (await client.get("/ciudad/v1/opendata")).json()
    assert [(e["entityType"], e["entities"]) for e in catalogue] == [("NoiseLevelObserved", 2)]
    bad = await client.get(
        "/ciudad/v1/opendata/NoiseLevelObserved.csv",
        params={"timeAt": "2026-11-21T10:00:00Z", "endTimeAt": "2026-11-21T09:00:00Z"},
    )
    assert bad.status_code == 400


async def test_noise_leq_is_energetic_per_sensor(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/ciudad/v1/services/noise/leq",
        params={"timeAt": "2026-11-21T10:00:00Z", "endTimeAt": "2026-11-21T11:00:00Z"},
    )
    assert response.status_code == 200
    by_id = {r["id"]: r for r in response.json()}
    # 3 x 60 dB and 2 x 70 dB: 10*log10((3*10^6 + 2*10^7)/5) = 66.63 dB (arithmetic: 64).
    assert by_id["urn:ngsi-ld:NoiseLevelObserved:leon:n1"]["LAeq"] == 66.63
    assert by_id["urn:ngsi-ld:NoiseLevelObserved:leon:n1"]["readings"] == 5
    assert by_id["urn:ngsi-ld:NoiseLevelObserved:leon:n2"]["LAeq"] == 50.0


async def test_noise_leq_of_one_sensor_and_period_bounds(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/ciudad/v1/services/noise/leq",
        params={
            "timeAt": "2026-11-21T10:01:00Z",
            "endTimeAt": "2026-11-21T10:02:00Z",
            "id": "urn:ngsi-ld:NoiseLevelObserved:leon:n1",
        },
    )
    assert [(r["LAeq"], r["readings"]) for r in response.json()] == [(70.0, 1)]
    bad = await client.get("/ciudad/v1/services/noise/leq", params={"timeAt": "x"})
    assert bad.status_code == 400


async def test_health_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok", "store": "ok"}
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/ngsi-ld/v1/temporal/entities/{entity_id}" in paths
    assert "/ciudad/v1/services/noise/leq" in paths
