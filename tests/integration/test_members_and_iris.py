"""Over the running API on a real PostgreSQL: what pick/omit leave of an entity (nothing:
404 for one entity, no result in a query), and full IRIs among the names of a request
without a context (ciudad's names for them)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
CAR = "urn:ngsi-ld:Vehicle:leon:members-001"
TOWER = "urn:ngsi-ld:Building:leon:members-002"


def _entity(entity_id: str, kind: str, **attrs: Any) -> dict[str, Any]:
    return {"id": entity_id, "type": kind} | {
        name: {"type": "Property", "value": value} for name, value in attrs.items()
    }


async def _create(client: httpx.AsyncClient) -> None:
    for body in (_entity(CAR, "Vehicle", brand="Seat"), _entity(TOWER, "Building", name="Pisa")):
        assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201


async def test_pick_and_omit_that_leave_nothing(client: httpx.AsyncClient) -> None:
    await _create(client)
    everything = await client.get(f"/ngsi-ld/v1/entities/{TOWER}", params={"omit": "id,type,name"})
    assert everything.status_code == 404
    assert everything.json()["type"].endswith("/ResourceNotFound")
    kept = await client.get(f"/ngsi-ld/v1/entities/{TOWER}", params={"omit": "id,type"})
    assert kept.json() == {"name": {"type": "Property", "value": "Pisa"}}
    picked = await client.get(
        "/ngsi-ld/v1/entities", params={"type": "Vehicle,Building", "pick": "name"}
    )
    assert picked.json() == [{"name": {"type": "Property", "value": "Pisa"}}], (
        "the Vehicle has no name: nothing of it is left, no result"
    )


async def test_a_default_context_iri_names_the_bare_term(client: httpx.AsyncClient) -> None:
    await _create(client)
    query = {"type": "Query", "entities": [{"type": "Vehicle"}], "attrs": [DEFAULT_VOCAB + "brand"]}
    found = await client.post("/ngsi-ld/v1/entityOperations/query", json=query)
    assert found.status_code == 200
    assert [e.get("brand", {}).get("value") for e in found.json()] == ["Seat"]
    by_get = await client.get(
        "/ngsi-ld/v1/entities", params={"type": DEFAULT_VOCAB + "Vehicle", "attrs": "brand"}
    )
    assert [e["id"] for e in by_get.json()] == [CAR], "answered in ciudad's names"
    assert by_get.json()[0]["type"] == "Vehicle"
