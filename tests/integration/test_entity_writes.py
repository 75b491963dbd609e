"""NGSI-LD entity writes through the API on a real PostgreSQL: create, conflicts, attribute
append/update/delete, entity deletion, batch operations with per-entity results."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.integration

LAMP = "urn:ngsi-ld:Streetlight:leon:api-001"
LOCATION = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.57, 42.6]}}


def _lamp(entity_id: str = LAMP, power: float = 35.0) -> dict[str, object]:
    return {
        "id": entity_id,
        "type": "Streetlight",
        "location": LOCATION,
        "powerConsumption": {
            "type": "Property",
            "value": power,
            "unitCode": "WTT",
            "observedAt": "2026-11-21T18:00:00Z",
        },
        "status": {"type": "Property", "value": "ok"},
        "refStreetlightGroup": {"type": "Relationship", "object": "urn:ngsi-ld:Group:1"},
    }


async def test_create_then_retrieve_and_history(client: httpx.AsyncClient) -> None:
    created = await client.post("/ngsi-ld/v1/entities", json=_lamp())
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/ngsi-ld/v1/entities/{LAMP}"
    entity = (await client.get(f"/ngsi-ld/v1/entities/{LAMP}")).json()
    assert entity["type"] == "Streetlight"
    assert entity["location"] == LOCATION
    assert entity["refStreetlightGroup"]["object"] == "urn:ngsi-ld:Group:1"
    assert entity["powerConsumption"] == {
        "type": "Property",
        "value": 35.0,
        "observedAt": "2026-11-21T18:00:00Z",
        "unitCode": "WTT",
    }
    history = (await client.get(f"/ngsi-ld/v1/temporal/entities/{LAMP}")).json()
    assert [i["value"] for i in history["powerConsumption"]] == [35.0]


async def test_creating_an_existing_id_is_409_already_exists(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/ngsi-ld/v1/entities", json=_lamp())).status_code == 201
    again = await client.post("/ngsi-ld/v1/entities", json=_lamp(power=1.0))
    assert again.status_code == 409
    assert again.json()["type"].endswith("/AlreadyExists")
    entity = (await client.get(f"/ngsi-ld/v1/entities/{LAMP}")).json()
    assert entity["powerConsumption"]["value"] == 35.0, "the refused create changed nothing"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "Streetlight"},
        {"id": "not-a-uri", "type": "Streetlight"},
        {"id": LAMP, "type": "Streetlight", "power": 35},
        {"id": LAMP, "type": "Streetlight", "power": {"type": "Property"}},
        {"id": LAMP, "type": "Streetlight", "power": {"type": "Number", "value": 1}},
        {
            "id": LAMP,
            "type": "Streetlight",
            "power": {"type": "Property", "value": 1, "observedAt": "yesterday"},
        },
        # JSON as Python parses it admits these; none is a measurement
        {"id": LAMP, "type": "Streetlight", "power": {"type": "Property", "value": float("nan")}},
        {"id": LAMP, "type": "Streetlight", "power": {"type": "Property", "value": float("inf")}},
        {"id": LAMP, "type": "Streetlight", "power": {"type": "Property", "value": 10**400}},
        {"id": LAMP, "type": "Streetlight", "spec": {"type": "Property", "value": [-float("inf")]}},
    ],
)
async def test_malformed_entities_are_400(
    client: httpx.AsyncClient,
    body: dict[str, object],
) -> None:
    # json.dumps writes NaN and Infinity as Python's parser reads them back
    text = json.dumps(body)
    headers = {"Content-Type": "application/json"}
    response = await client.post("/ngsi-ld/v1/entities", content=text, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/BadRequestData")


async def test_append_update_and_delete_attributes(client: httpx.AsyncClient) -> None:
    await client.post("/ngsi-ld/v1/entities", json=_lamp())
    appended = await client.post(
        f"/ngsi-ld/v1/entities/{LAMP}/attrs",
        json={"illuminanceLevel": {"type": "Property", "value": 0.5}},
    )
    assert appended.status_code == 204
    updated = await client.patch(
        f"/ngsi-ld/v1/entities/{LAMP}/attrs/powerConsumption",
        json={"type": "Property", "value": 20.0, "observedAt": "2026-11-21T19:00:00Z"},
    )
    assert updated.status_code == 204
    missing = await client.patch(
        f"/ngsi-ld/v1/entities/{LAMP}/attrs/nothing", json={"type": "Property", "value": 1}
    )
    assert missing.status_code == 404
    assert (await client.delete(f"/ngsi-ld/v1/entities/{LAMP}/attrs/status")).status_code == 204
    assert (
        await client.delete(f"/ngsi-ld/v1/entities/{LAMP}/attrs/refStreetlightGroup")
    ).status_code == 204
    assert (await client.delete(f"/ngsi-ld/v1/entities/{LAMP}/attrs/status")).status_code == 404
    entity = (await client.get(f"/ngsi-ld/v1/entities/{LAMP}")).json()
    assert entity["illuminanceLevel"]["value"] == 0.5
    assert entity["powerConsumption"]["value"] == 20.0
    assert "status" not in entity
    assert "refStreetlightGroup" not in entity
    history = (await client.get(f"/ngsi-ld/v1/temporal/entities/{LAMP}")).json()
    assert [i["value"] for i in history["powerConsumption"]] == [35.0, 20.0]


async def test_delete_entity(client: httpx.AsyncClient) -> None:
    await client.post("/ngsi-ld/v1/entities", json=_lamp())
    assert (await client.delete(f"/ngsi-ld/v1/entities/{LAMP}")).status_code == 204
    assert (await client.get(f"/ngsi-ld/v1/entities/{LAMP}")).status_code == 404
    assert (await client.delete(f"/ngsi-ld/v1/entities/{LAMP}")).status_code == 404
    assert (await client.post("/ngsi-ld/v1/entities", json=_lamp())).status_code == 201


async def test_batch_operations_report_per_entity_results(
    client: httpx.AsyncClient,
) -> None:
    second = "urn:ngsi-ld:Streetlight:leon:api-002"
    created = await client.post("/ngsi-ld/v1/entityOperations/create", json=[_lamp()])
    assert (created.status_code, created.json()) == (201, [LAMP])
    for operation in ("create", "upsert", "update", "merge", "delete"):
        empty = await client.post(f"/ngsi-ld/v1/entityOperations/{operation}", json=[])
        assert empty.status_code == 400, f"an empty {operation} batch is a mistake"
    mixed = await client.post(
        "/ngsi-ld/v1/entityOperations/create", json=[_lamp(), _lamp(second), {"id": "x"}]
    )
    assert mixed.status_code == 207
    report = mixed.json()
    assert report["success"] == [second]
    assert [(e["entityId"], e["error"]["status"]) for e in report["errors"]] == [
        (LAMP, 409),
        ("x", 400),
    ]
    upserted = await client.post(
        "/ngsi-ld/v1/entityOperations/upsert", json=[_lamp(power=50.0), _lamp(second, 60.0)]
    )
    assert upserted.status_code == 204  # both existed: none created (NGSI-LD 5.6.8)
    entity = (await client.get(f"/ngsi-ld/v1/entities/{LAMP}")).json()
    assert entity["powerConsumption"]["value"] == 50.0, "options=replace (the default)"
    created = await client.post(
        "/ngsi-ld/v1/entityOperations/upsert",
        params={"options": "update"},
        json=[_lamp(power=70.0), _lamp("urn:ngsi-ld:Streetlight:leon:api-new", 60.0)],
    )
    assert (created.status_code, created.json()) == (201, ["urn:ngsi-ld:Streetlight:leon:api-new"])
    entity = (await client.get(f"/ngsi-ld/v1/entities/{LAMP}")).json()
    assert entity["powerConsumption"]["value"] == 50.0, "update: same observedAt, first value stays"
    deleted = await client.post(
        "/ngsi-ld/v1/entityOperations/delete", json=[LAMP, second, "urn:ngsi-ld:x:none"]
    )
    assert deleted.status_code == 207
    assert deleted.json()["success"] == [LAMP, second]
    assert deleted.json()["errors"][0]["error"]["status"] == 404


async def test_replace_merge_and_update_existing_attributes(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/ngsi-ld/v1/entities", json=_lamp())
    url = f"/ngsi-ld/v1/entities/{LAMP}"
    merged = await client.patch(url, json={"illuminanceLevel": {"type": "Property", "value": 0.3}})
    assert merged.status_code == 204
    partly = await client.patch(
        f"{url}/attrs",
        json={
            "illuminanceLevel": {"type": "Property", "value": 0.8},
            "colour": {"type": "Property", "value": "warm"},
        },
    )
    assert partly.status_code == 204, "an attribute the entity lacks is appended"
    entity = (await client.get(url)).json()
    assert entity["illuminanceLevel"]["value"] == 0.8
    assert entity["colour"]["value"] == "warm"
    no_scope = await client.patch(f"{url}/attrs", json={"scope": "/Leon/Centro"})
    assert no_scope.status_code == 207
    assert no_scope.json() == {
        "updated": [],
        "notUpdated": [{"attributeName": "scope", "reason": "the entity has no scope to update"}],
    }
    replaced = await client.put(url, json={"status": {"type": "Property", "value": "fault"}})
    assert replaced.status_code == 204
    entity = (await client.get(url)).json()
    assert set(entity) == {"id", "type", "status"}, "replace drops every other attribute"
    wrong = await client.put(
        url, json={"type": "Other", "status": {"type": "Property", "value": 1}}
    )
    assert wrong.status_code == 400


async def test_batch_update_only_touches_existing_entities(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/ngsi-ld/v1/entities", json=_lamp())
    ghost = "urn:ngsi-ld:Streetlight:leon:ghost"
    response = await client.post(
        "/ngsi-ld/v1/entityOperations/update",
        json=[
            {"id": LAMP, "type": "Streetlight", "status": {"type": "Property", "value": "dim"}},
            {"id": ghost, "type": "Streetlight", "status": {"type": "Property", "value": "x"}},
        ],
    )
    assert response.status_code == 207
    assert response.json()["success"] == [LAMP]
    assert response.json()["errors"][0]["entityId"] == ghost
    assert (await client.get(f"/ngsi-ld/v1/entities/{ghost}")).status_code == 404
    status = (await client.get(f"/ngsi-ld/v1/entities/{LAMP}")).json()["status"]
    assert status["value"] == "dim"


async def test_purge_deletes_what_a_query_selects_or_only_some_attributes(
    client: httpx.AsyncClient,
) -> None:
    """NGSI-LD 5.6.21: DELETE /entities with a selection; drop/keep spare the entities."""

    def lamp(n: int) -> dict[str, object]:
        return {"id": f"urn:ngsi-ld:Streetlight:leon:p{n}", "type": "Streetlight",
                "status": {"type": "Property", "value": "on"},
                "power": {"type": "Property", "value": n}}  # fmt: skip

    batch = [lamp(1), lamp(2), lamp(3)]
    assert (await client.post("/ngsi-ld/v1/entityOperations/create", json=batch)).status_code == 201
    url = "/ngsi-ld/v1/entities"
    assert (await client.delete(url)).status_code == 400, "no selection: nothing goes"
    both = await client.delete(url, params={"type": "Streetlight", "keep": "a", "drop": "b"})
    assert both.status_code == 400
    dropped = await client.delete(url, params={"type": "Streetlight", "drop": "power"})
    assert dropped.status_code == 204
    kept = await client.delete(url, params={"id": lamp(1)["id"], "keep": "power"})
    assert kept.status_code == 204
    lamps = (await client.get(url, params={"type": "Streetlight"})).json()
    assert [set(e) - {"id", "type"} for e in lamps] == [set(), {"status"}, {"status"}]
    gone = await client.delete(url, params={"type": "Streetlight", "q": 'status=="on"'})
    assert gone.status_code == 204
    left = (await client.get(url, params={"type": "Streetlight"})).json()
    assert [e["id"] for e in left] == [lamp(1)["id"]]
