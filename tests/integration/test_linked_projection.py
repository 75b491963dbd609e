"""Linked entities (NGSI-LD 4.5.23) projected by pick and omit (4.21): braces after a
Relationship's name project the entity it links to; links left out are not followed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

COUNTRY = {"id": "urn:ngsi-ld:Country:es", "type": "Country",
           "name": {"type": "Property", "value": "España"}}  # fmt: skip
CITY = {"id": "urn:ngsi-ld:City:leon", "type": "City",
        "name": {"type": "Property", "value": "León"},
        "inCountry": {"type": "Relationship", "object": COUNTRY["id"]}}  # fmt: skip
BUILDING = {"id": "urn:ngsi-ld:Building:cathedral", "type": "Building",
            "name": {"type": "Property", "value": "Catedral"},
            "locatedAt": {"type": "Relationship", "object": CITY["id"]}}  # fmt: skip


@pytest.fixture
async def town(client: httpx.AsyncClient) -> httpx.AsyncClient:
    batch = [COUNTRY, CITY, BUILDING]
    response = await client.post("/ngsi-ld/v1/entityOperations/create", json=batch)
    assert response.status_code == 201
    return client


async def _get(http: httpx.AsyncClient, **params: str) -> Any:
    response = await http.get(f"/ngsi-ld/v1/entities/{BUILDING['id']}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_pick_in_braces_projects_each_level_of_linked_entities(
    town: httpx.AsyncClient,
) -> None:
    pick = "id,locatedAt{id,name,inCountry{name}}"
    inlined = await _get(town, join="inline", joinLevel="2", pick=pick)
    city = inlined["locatedAt"]["entity"]
    assert set(inlined) == {"id", "locatedAt"}
    assert set(city) == {"id", "name", "inCountry"}
    assert city["inCountry"]["entity"] == {"name": COUNTRY["name"]}
    flat = await _get(town, join="flat", joinLevel="2", pick=pick)
    assert flat[1:] == [{"id": CITY["id"], "name": CITY["name"],
                         "inCountry": CITY["inCountry"]}, {"name": COUNTRY["name"]}]  # fmt: skip


async def test_links_left_out_are_not_followed(town: httpx.AsyncClient) -> None:
    alone = await _get(town, join="flat", pick="id,name")
    assert alone == {"id": BUILDING["id"], "name": BUILDING["name"]}, "no list: nothing linked"
    omitted = await _get(town, join="flat", omit="locatedAt")
    assert omitted["id"] == BUILDING["id"]


async def test_omit_in_braces_leaves_members_out_of_the_linked_entity_only(
    town: httpx.AsyncClient,
) -> None:
    inlined = await _get(town, join="inline", omit="name,locatedAt{name}")
    assert "name" not in inlined
    assert "name" not in inlined["locatedAt"]["entity"]
    kept = await _get(town, join="inline", omit="name")
    assert kept["locatedAt"]["entity"]["name"] == CITY["name"], "omit is per level"


async def test_a_query_by_post_joins_as_its_body_asks(town: httpx.AsyncClient) -> None:
    body = {"type": "Query", "entities": [{"type": "Building"}], "join": "flat", "joinLevel": 2}
    response = await town.post("/ngsi-ld/v1/entityOperations/query", json=body)
    assert [e["id"] for e in response.json()] == [BUILDING["id"], CITY["id"], COUNTRY["id"]]
    body["joinLevel"] = 0
    refused = await town.post("/ngsi-ld/v1/entityOperations/query", json=body)
    assert refused.status_code == 400
