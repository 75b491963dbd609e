"""``orderBy`` on entity and temporal queries, and the temporal ``datasetId`` filter,
through the API on a real PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

PREFIX = "urn:ngsi-ld:Kiosk:leon:"


def _kiosk(n: int, name: str | None, rank: float | None, rating: float | None) -> dict[str, Any]:
    kiosk: dict[str, Any] = {"id": f"{PREFIX}{n}", "type": "Kiosk"}
    if name is not None:
        kiosk["name"] = {"type": "Property", "value": name}
        if rank is not None:
            kiosk["name"]["rank"] = {"type": "Property", "value": rank}
    if rating is not None:
        kiosk["rating"] = {"type": "Property", "value": rating}
    return kiosk


@pytest.fixture
async def kiosks(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Created one by one, in the order 3, 1, 4, 2 (4 has no name; 2 no rating)."""
    for body in (
        _kiosk(3, "Carmen", 1.0, 9.5),
        _kiosk(1, "Ana", 3.0, 10.0),
        _kiosk(4, None, None, 2.0),
        _kiosk(2, "Berta", 2.0, None),
    ):
        assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    return client


async def _order(http: httpx.AsyncClient, order_by: str, **params: str) -> list[str]:
    response = await http.get(
        "/ngsi-ld/v1/entities", params={"type": "Kiosk", "orderBy": order_by, **params}
    )
    assert response.status_code == 200, response.text
    return [e["id"].removeprefix(PREFIX) for e in response.json()]


async def test_entities_sort_by_values_members_and_several_keys(
    kiosks: httpx.AsyncClient,
) -> None:
    # entities lacking the key come last, whichever the direction
    assert await _order(kiosks, "name") == ["1", "2", "3", "4"]
    assert await _order(kiosks, "name;desc") == ["3", "2", "1", "4"]
    assert await _order(kiosks, "rating") == ["4", "3", "1", "2"]
    assert await _order(kiosks, "rating;desc") == ["1", "3", "4", "2"]
    assert await _order(kiosks, "name.rank") == ["3", "2", "1", "4"]
    assert await _order(kiosks, "createdAt") == ["3", "1", "4", "2"]
    assert await _order(kiosks, "createdAt;desc") == ["2", "4", "1", "3"]
    assert await _order(kiosks, "name.createdAt") == ["3", "1", "2", "4"]
    assert await _order(kiosks, "id;desc") == ["4", "3", "2", "1"]
    assert await _order(kiosks, "type,name;desc") == ["3", "2", "1", "4"]


async def test_pages_follow_the_order(kiosks: httpx.AsyncClient) -> None:
    pages = [await _order(kiosks, "name;desc", limit="2", offset=str(offset)) for offset in (0, 2)]
    assert pages == [["3", "2"], ["1", "4"]]


async def test_queries_by_post_and_temporal_queries_sort_too(kiosks: httpx.AsyncClient) -> None:
    query = {"type": "Query", "entities": [{"type": "Kiosk"}]}
    posted = await kiosks.post(
        "/ngsi-ld/v1/entityOperations/query", json=query, params={"orderBy": "name;desc"}
    )
    assert [e["id"].removeprefix(PREFIX) for e in posted.json()] == ["3", "2", "1", "4"]
    temporal = await kiosks.get(
        "/ngsi-ld/v1/temporal/entities", params={"type": "Kiosk", "orderBy": "rating;desc"}
    )
    assert temporal.status_code == 200, temporal.text
    assert [e["id"].removeprefix(PREFIX) for e in temporal.json()] == ["1", "3", "4", "2"]
    by_post = await kiosks.post(
        "/ngsi-ld/v1/temporal/entityOperations/query", json=query, params={"orderBy": "id;desc"}
    )
    assert [e["id"].removeprefix(PREFIX) for e in by_post.json()] == ["4", "3", "2", "1"]


async def test_order_names_follow_the_request_context(client: httpx.AsyncClient) -> None:
    context = {"ex": "http://example.org/", "nombre": "ex:nombre", "puesto": "ex:puesto"}
    ld = {"Content-Type": "application/ld+json"}
    for n, (name, rank) in enumerate([("A", 1), ("B", 2)]):
        body = {"id": f"urn:ngsi-ld:Puesto:{n}", "type": "Puesto", "@context": context,
                "nombre": {"type": "Property", "value": name,
                           "puesto": {"type": "Property", "value": rank}}}  # fmt: skip
        created = await client.post("/ngsi-ld/v1/entities", content=json.dumps(body), headers=ld)
        assert created.status_code == 201, created.text
    response = await client.post(
        "/ngsi-ld/v1/entityOperations/query",
        content=json.dumps(
            {"type": "Query", "entities": [{"type": "Puesto"}], "@context": context}
        ),
        params={"orderBy": "nombre.puesto;desc"},
        headers=ld,
    )
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()] == ["urn:ngsi-ld:Puesto:1", "urn:ngsi-ld:Puesto:0"]


@pytest.mark.parametrize(
    "order_by",
    ["", "name;up", "name..rank", "id.x", "name.createdAt.x", ",".join(["name"] * 9),
     "a.b.c.d.e", "name;asc;desc"],
)  # fmt: skip
async def test_bad_orderings_are_400(kiosks: httpx.AsyncClient, order_by: str) -> None:
    response = await kiosks.get(
        "/ngsi-ld/v1/entities", params={"type": "Kiosk", "orderBy": order_by}
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/BadRequestData")


SENSOR = "urn:ngsi-ld:Vehicle:leon:ds1"


async def _temporal(http: httpx.AsyncClient, **params: str) -> Any:
    response = await http.get(
        "/ngsi-ld/v1/temporal/entities",
        params={"type": "Vehicle", "timerel": "after", "timeAt": "2026-01-01T00:00:00Z",
                "options": "temporalValues", **params},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


async def test_temporal_queries_filter_instances_by_dataset(client: httpx.AsyncClient) -> None:
    def speed(value: float, minute: int, dataset: str | None = None) -> dict[str, Any]:
        at = {"observedAt": f"2026-03-01T12:{minute:02d}:00Z"}
        return {"type": "Property", "value": value, **at} | (
            {"datasetId": dataset} if dataset else {}
        )

    body = {
        "id": SENSOR,
        "type": "Vehicle",
        "speed": [speed(50, 1), speed(60, 2, "urn:ds:gps"), speed(61, 3, "urn:ds:gps"),
                  speed(70, 4, "urn:ds:radar")],
    }  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/temporal/entities", json=body)).status_code == 201
    (every,) = await _temporal(client)
    by_dataset = {s.get("datasetId"): [v[0] for v in s["values"]] for s in every["speed"]}
    assert by_dataset == {None: [50], "urn:ds:gps": [60, 61], "urn:ds:radar": [70]}
    (gps,) = await _temporal(client, datasetId="urn:ds:gps")
    assert gps["speed"]["datasetId"] == "urn:ds:gps"
    assert [v[0] for v in gps["speed"]["values"]] == [60, 61]
    (default,) = await _temporal(client, datasetId="@none", attrs="speed")
    assert default["speed"] == {"type": "Property", "values": [[50, "2026-03-01T12:01:00Z"]]}
    assert await _temporal(client, datasetId="urn:ds:none") == []
    one = await client.get(
        f"/ngsi-ld/v1/temporal/entities/{SENSOR}",
        params={"datasetId": "urn:ds:radar", "options": "temporalValues"},
    )
    assert one.json()["speed"] == {
        "type": "Property",
        "datasetId": "urn:ds:radar",
        "values": [[70, "2026-03-01T12:04:00Z"]],
    }
    bad = await client.get("/ngsi-ld/v1/temporal/entities", params={"type": "V", "datasetId": "x"})
    assert bad.status_code == 400, bad.text
