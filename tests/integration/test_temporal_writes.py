"""NGSI-LD temporal provisioning through the API on a real PostgreSQL: history created,
extended and deleted, roll-ups following."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.subscribing import LEON, platform

pytestmark = pytest.mark.integration

METER = "urn:ngsi-ld:Streetlight:leon:history-001"
URL = f"/ngsi-ld/v1/temporal/entities/{METER}"


def _instances(*pairs: tuple[str, float]) -> list[dict[str, object]]:
    return [
        {"type": "Property", "value": value, "observedAt": at, "unitCode": "WTT"}
        for at, value in pairs
    ]


async def test_temporal_entity_is_created_extended_and_deleted(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "id": METER,
        "type": "Streetlight",
        "powerConsumption": _instances(
            ("2026-11-21T18:00:00Z", 30.0), ("2026-11-21T18:01:00Z", 32.0)
        ),
    }
    created = await client.post("/ngsi-ld/v1/temporal/entities", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == URL
    more = {
        "id": METER,
        "type": "Streetlight",
        "powerConsumption": _instances(("2026-11-21T18:02:00Z", 34.0)),
    }
    assert (await client.post("/ngsi-ld/v1/temporal/entities", json=more)).status_code == 204
    added = await client.post(
        f"{URL}/attrs", json={"powerConsumption": _instances(("2026-11-21T17:59:00Z", 28.0))}
    )
    assert added.status_code == 204
    history = (await client.get(URL)).json()["powerConsumption"]
    assert [(i["observedAt"][11:16], i["value"]) for i in history] == [
        ("17:59", 28.0),
        ("18:00", 30.0),
        ("18:01", 32.0),
        ("18:02", 34.0),
    ]
    aggregated = await client.get(
        URL,
        params={
            "options": "aggregatedValues",
            "aggrMethods": "sum,totalCount",
            "aggrPeriodDuration": "PT1H",
        },
    )
    power = aggregated.json()["powerConsumption"]
    assert power["totalCount"] == [[4.0, "2026-11-21T17:59:00Z", "2026-11-21T18:59:00Z"]], (
        "without timeAt the periods start at the first instance, the late one included"
    )
    hourly = {"options": "aggregatedValues", "aggrMethods": "totalCount,distinctCount",
              "aggrPeriodDuration": "PT1H", "timerel": "after"}  # fmt: skip
    on_the_hour = await client.get(URL, params={**hourly, "timeAt": "2026-11-21T17:00:00Z"})
    power = on_the_hour.json()["powerConsumption"]
    assert [v[0] for v in power["totalCount"]] == [1.0, 3.0], "roll-ups followed the history"
    assert [v[1] for v in power["distinctCount"]] == [
        "2026-11-21T17:00:00Z",
        "2026-11-21T18:00:00Z",
    ]
    deleted = await client.delete(f"{URL}/attrs/powerConsumption")
    assert deleted.status_code == 204
    assert "powerConsumption" not in (await client.get(URL)).json()
    assert (await client.delete(URL)).status_code == 204
    assert (await client.get(URL)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"id": METER, "type": "Streetlight", "power": [{"type": "Property", "value": 1}]},
        {"id": "nope", "type": "Streetlight"},
        {"id": METER, "type": "Streetlight", "power": [1, 2]},
        {"id": METER, "type": "Streetlight", "scope": "no/leading/slash"},
    ],
)
async def test_bad_temporal_bodies_are_400(
    client: httpx.AsyncClient,
    body: dict[str, object],
) -> None:
    response = await client.post("/ngsi-ld/v1/temporal/entities", json=body)
    assert response.status_code == 400, response.text


async def test_single_instances_are_deleted_with_their_roll_ups_and_state(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "id": METER,
        "type": "Streetlight",
        "powerConsumption": _instances(
            ("2026-11-21T18:00:00Z", 30.0),
            ("2026-11-21T18:20:00Z", 90.0),
            ("2026-11-21T18:40:00Z", 40.0),
        ),
    }
    assert (await client.post("/ngsi-ld/v1/temporal/entities", json=body)).status_code == 201

    async def hourly() -> list[list[object]]:
        answer = await client.get(
            URL,
            params={
                "options": "aggregatedValues",
                "aggrMethods": "max,totalCount",
                "aggrPeriodDuration": "PT1H",
            },
        )
        series = answer.json()["powerConsumption"]
        return [series["max"][0][0], series["totalCount"][0][0]]

    assert await hourly() == [90.0, 3]
    history = (await client.get(URL)).json()["powerConsumption"]
    peak, latest = history[1], history[2]
    deleted = await client.delete(f"{URL}/attrs/powerConsumption/{peak['instanceId']}")
    assert deleted.status_code == 204
    assert await hourly() == [40.0, 2]  # the maximum is recomputed, not kept
    assert (
        await client.delete(f"{URL}/attrs/powerConsumption/{latest['instanceId']}")
    ).status_code == 204
    current = (await client.get(f"/ngsi-ld/v1/entities/{METER}")).json()["powerConsumption"]
    assert (current["value"], current["observedAt"]) == (30.0, "2026-11-21T18:00:00Z")
    again = await client.delete(f"{URL}/attrs/powerConsumption/{peak['instanceId']}")
    assert again.status_code == 404
    bogus = await client.delete(f"{URL}/attrs/powerConsumption/urn:ngsi-ld:Instance:x")
    assert bogus.status_code == 404, "a URI, but no instanceId this broker gives"
    no_uri = await client.delete(f"{URL}/attrs/powerConsumption/not-an-id")
    assert no_uri.status_code == 400
    remaining = (await client.get(URL)).json()["powerConsumption"]
    assert [i["value"] for i in remaining] == [30.0]


async def test_attributes_that_are_no_reading_have_a_history_too(
    client: httpx.AsyncClient,
) -> None:
    """GeoProperties, Relationships and instances with a datasetId keep every instance
    written, beside the readings' history, oldest first; deleting them goes with them."""

    def point(lon: float) -> dict[str, object]:
        return {"type": "Point", "coordinates": [lon, 42.6]}

    def at(minute: int) -> str:
        return f"2026-11-21T18:{minute:02}:00Z"

    second_meter = {"type": "Property", "value": 7, "observedAt": at(2),
                    "datasetId": "urn:ngsi-ld:Dataset:meter2"}  # fmt: skip
    body = {
        "id": METER, "type": "Streetlight",
        "location": [{"type": "GeoProperty", "value": point(-5.57), "observedAt": at(0)},
                     {"type": "GeoProperty", "value": point(-5.58), "observedAt": at(5)}],
        "powerConsumption": [*_instances((at(1), 30.0)), second_meter],
    }  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/temporal/entities", json=body)).status_code == 201
    history = (await client.get(URL)).json()
    assert [i["value"] for i in history["location"]] == [point(-5.57), point(-5.58)]
    power = history["powerConsumption"]
    assert [(i["value"], i.get("datasetId")) for i in power] == [
        (30.0, None),
        (7, "urn:ngsi-ld:Dataset:meter2"),
    ]
    entity = f"/ngsi-ld/v1/entities/{METER}"
    current = (await client.get(entity)).json()
    assert current["location"]["value"] == point(-5.58), "the newest instance is current"
    assert current["powerConsumption"] == [_instances((at(1), 30.0))[0], second_meter]
    moved = {"location": {"type": "GeoProperty", "value": point(-5.59)}}
    assert (await client.patch(f"{entity}/attrs", json=moved)).status_code == 204
    located = (await client.get(URL, params={"attrs": "location", "lastN": "2"})).json()
    assert [i["value"] for i in located["location"]] == [point(-5.58), point(-5.59)]
    simplified = await client.get(URL, params={"attrs": "location", "options": "temporalValues"})
    assert simplified.json()["location"]["type"] == "GeoProperty"
    by_format = await client.get(URL, params={"attrs": "location", "format": "temporalValues"})
    assert by_format.json() == simplified.json()
    odd = await client.get(URL, params={"options": "temporalValues,fancy"})
    assert odd.status_code == 400, "an unknown option is refused, not ignored"
    first = history["location"][0]["instanceId"]
    gone = await client.delete(f"{URL}/attrs/location/{first}")
    assert gone.status_code == 204
    assert len((await client.get(URL, params={"attrs": "location"})).json()["location"]) == 2
    assert (await client.delete(f"{URL}/attrs/location")).status_code == 204
    assert "location" not in (await client.get(URL)).json()
    one = await client.delete(f"{URL}/attrs/powerConsumption",
                              params={"datasetId": second_meter["datasetId"]})  # fmt: skip
    assert one.status_code == 204
    assert [i["value"] for i in (await client.get(URL)).json()["powerConsumption"]] == [30.0]
    assert (await client.get(entity)).json()["powerConsumption"]["value"] == 30.0
    again = await client.delete(f"{URL}/attrs/powerConsumption",
                                params={"datasetId": second_meter["datasetId"]})  # fmt: skip
    assert again.status_code == 404


async def test_an_instance_is_changed_in_place_with_its_roll_ups(
    client: httpx.AsyncClient,
) -> None:
    """NGSI-LD 5.6.16: PATCH .../attrs/{attr}/{instanceId} changes that instance's value;
    the day's roll-ups and, for the current one, the entity follow."""
    body = {"id": METER, "type": "Streetlight",
            "powerConsumption": _instances(("2026-11-21T18:00:00Z", 30.0),
                                           ("2026-11-21T18:20:00Z", 90.0))}  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/temporal/entities", json=body)).status_code == 201
    latest = (await client.get(URL)).json()["powerConsumption"][1]["instanceId"]
    changed = await client.patch(f"{URL}/attrs/powerConsumption/{latest}",
                                 json={"type": "Property", "value": 50.0,
                                       "observedAt": "2026-11-21T18:20:00Z"})  # fmt: skip
    assert changed.status_code == 204, changed.text
    history = (await client.get(URL)).json()["powerConsumption"]
    assert [i["value"] for i in history] == [30.0, 50.0]
    hourly = await client.get(URL, params={"options": "aggregatedValues", "aggrMethods": "max",
                                           "aggrPeriodDuration": "PT1H"})  # fmt: skip
    assert hourly.json()["powerConsumption"]["max"][0][0] == 50.0, "the roll-up followed"
    current = (await client.get(f"/ngsi-ld/v1/entities/{METER}")).json()
    assert current["powerConsumption"]["value"] == 50.0
    moved = await client.patch(f"{URL}/attrs/powerConsumption/{latest}",
                               json={"value": 1, "observedAt": "2026-11-21T19:00:00Z"})  # fmt: skip
    assert moved.status_code == 400, "the time is the instance's identity"
    missing = await client.patch(f"{URL}/attrs/powerConsumption/urn:ngsi-ld:Instance:1",
                                 json={"value": 1})  # fmt: skip
    assert missing.status_code == 404


async def test_the_temporal_evolution_is_queried_by_post_too(client: httpx.AsyncClient) -> None:
    body = {"id": METER, "type": "Streetlight",
            "powerConsumption": _instances(("2026-11-21T18:00:00Z", 30.0),
                                           ("2026-11-21T18:20:00Z", 90.0))}  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/temporal/entities", json=body)).status_code == 201
    scoped = {"id": f"{METER}:2", "type": "Cabinet", "scope": "/Leon/Centro"}
    assert (await client.post("/ngsi-ld/v1/temporal/entities", json=scoped)).status_code == 201
    query = {"type": "Query", "entities": [{"type": "Streetlight"}], "attrs": ["powerConsumption"],
             "temporalQ": {"timerel": "after", "timeAt": "2026-11-21T18:10:00Z"}}  # fmt: skip
    found = await client.post("/ngsi-ld/v1/temporal/entityOperations/query", json=query,
                              params={"count": "true"})  # fmt: skip
    assert found.status_code == 200, found.text
    assert found.headers["NGSILD-Results-Count"] == "1"
    (entity,) = found.json()
    assert [i["value"] for i in entity["powerConsumption"]] == [90.0]
    later = query | {"temporalQ": {"timerel": "after", "timeAt": "2026-11-21T19:00:00Z"}}
    none = await client.post("/ngsi-ld/v1/temporal/entityOperations/query", json=later)
    assert none.json() == [], "an entity with nothing in the time asked for is no match"
    wrong = await client.post("/ngsi-ld/v1/temporal/entityOperations/query",
                              json=query | {"temporalQ": {"timerel": "soon"}})  # fmt: skip
    assert wrong.status_code == 400


async def test_a_temporal_answer_holds_a_bounded_number_of_instances(database_url: str) -> None:
    """CIUDAD_TEMPORAL_MAX_INSTANCES per attribute; beyond, 206 and the Content-Range of
    what was answered: the oldest of the window, or with lastN the newest."""
    minutes = [f"2026-11-21T18:0{m}:00Z" for m in range(5)]
    readings = _instances(*((at, float(i)) for i, at in enumerate(minutes)))
    body = {"id": METER, "type": "Streetlight", "powerConsumption": readings}
    async with platform(database_url, temporal_max_instances=3) as (http, _):
        created = await http.post("/ngsi-ld/v1/temporal/entities", json=body, headers=LEON)
        assert created.status_code == 201
        oldest = await http.get(URL, headers=LEON)
        assert oldest.status_code == 206
        assert [i["value"] for i in oldest.json()["powerConsumption"]] == [0.0, 1.0, 2.0]
        assert oldest.headers["Content-Range"] == f"date-time {minutes[0]}-{minutes[2]}/*"
        newest = await http.get(URL, headers=LEON, params={"lastN": "4"})
        assert newest.status_code == 206
        assert [i["value"] for i in newest.json()["powerConsumption"]] == [2.0, 3.0, 4.0]
        assert newest.headers["Content-Range"] == f"date-time {minutes[4]}-{minutes[2]}/4"
        whole = await http.get(URL, headers=LEON, params={"lastN": "3"})
        assert whole.status_code == 200, "all that was asked for fits"
        queried = await http.get("/ngsi-ld/v1/temporal/entities", headers=LEON,
                                 params={"type": "Streetlight"})  # fmt: skip
        assert queried.status_code == 206
        assert len(queried.json()[0]["powerConsumption"]) == 3
