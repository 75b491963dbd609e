"""Soft deletion on a real PostgreSQL: a deleted attribute (an instance of it, an entity's
scope) stays in the temporal evolution as NGSI-LD Null with its ``deletedAt``, retrieved
with ``timeproperty=deletedAt``; and the per-entity answers of batches."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

CAR = "urn:ngsi-ld:Vehicle:leon:soft-001"
ENTITY = f"/ngsi-ld/v1/entities/{CAR}"
TEMPORAL = f"/ngsi-ld/v1/temporal/entities/{CAR}"
NULL = "urn:ngsi-ld:null"
DELETIONS = {"timeproperty": "deletedAt"}


def _car(car: str = CAR) -> dict[str, Any]:
    return {
        "id": car,
        "type": "Vehicle",
        "scope": ["/Leon/Centro"],
        "speed": {"type": "Property", "value": 42.0, "observedAt": "2026-12-05T10:00:00Z"},
        "isParkedIn": {"type": "Relationship", "object": "urn:ngsi-ld:Parking:leon:p1"},
        "name": {"type": "LanguageProperty", "languageMap": {"es": "Mi coche"}},
        "colour": [
            {"type": "Property", "value": "red"},
            {"type": "Property", "value": "rojo", "datasetId": "urn:ngsi-ld:Dataset:es"},
        ],
    }


async def test_deleted_attributes_stay_in_the_temporal_evolution(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/ngsi-ld/v1/entities", json=_car())).status_code == 201
    for name in ("speed", "isParkedIn", "name", "scope"):
        assert (await client.delete(f"{ENTITY}/attrs/{name}")).status_code == 204
    gone = await client.delete(
        f"{ENTITY}/attrs/colour", params={"datasetId": "urn:ngsi-ld:Dataset:es"}
    )
    assert gone.status_code == 204
    deletions = await client.get(TEMPORAL, params=DELETIONS)
    assert deletions.status_code == 200, deletions.text
    doc = deletions.json()
    assert set(doc) == {"id", "type", "speed", "isParkedIn", "name", "scope", "colour"}
    values = {
        name: {k: v for k, v in doc[name][0].items() if k not in ("deletedAt", "instanceId")}
        for name in ("speed", "isParkedIn", "name", "scope", "colour")
    }
    assert values == {
        "speed": {"type": "Property", "value": NULL},
        "isParkedIn": {"type": "Relationship", "object": NULL},
        "name": {"type": "LanguageProperty", "languageMap": {"@none": NULL}},
        "scope": {"type": "Property", "value": []},
        "colour": {"type": "Property", "value": NULL, "datasetId": "urn:ngsi-ld:Dataset:es"},
    }, "the deleted instance of colour only; its default instance stays"
    assert all(len(doc[name]) == 1 and "deletedAt" in doc[name][0] for name in values)
    observed = (await client.get(TEMPORAL)).json()
    assert [i["value"] for i in observed["speed"]] == [42], "deletions have no observedAt"
    assert not any("deletedAt" in i for v in observed.values() if isinstance(v, list) for i in v)


async def test_deletions_in_temporal_values_and_in_a_window(client: httpx.AsyncClient) -> None:
    assert (await client.post("/ngsi-ld/v1/entities", json=_car())).status_code == 201
    assert (await client.delete(f"{ENTITY}/attrs/isParkedIn")).status_code == 204
    pairs = await client.get(TEMPORAL, params=DELETIONS | {"options": "temporalValues"})
    parked = pairs.json()["isParkedIn"]
    assert parked["type"] == "Relationship"
    [[value, deleted_at]] = parked["objects"]
    assert value == NULL
    assert deleted_at.endswith("Z"), "the pair's time is the deletedAt"
    before = await client.get(
        TEMPORAL, params=DELETIONS | {"timerel": "before", "timeAt": "2000-01-01T00:00:00Z"}
    )
    assert set(before.json()) == {"id", "type"}, "the window applies to deletedAt"
    refused = await client.get(TEMPORAL, params={"timeproperty": "expiresAt"})
    assert refused.status_code == 400
    # The temporal API's own deletion removes the history, deletions included.
    assert (await client.delete(f"{TEMPORAL}/attrs/isParkedIn")).status_code == 204
    assert "isParkedIn" not in (await client.get(TEMPORAL, params=DELETIONS)).json()


async def test_merge_with_null_keeps_a_record(client: httpx.AsyncClient) -> None:
    assert (await client.post("/ngsi-ld/v1/entities", json=_car())).status_code == 201
    null_name = {"type": "LanguageProperty", "languageMap": {"@none": NULL}}
    merged = await client.patch(ENTITY, json={"name": null_name})
    assert merged.status_code == 204
    doc = (await client.get(TEMPORAL, params=DELETIONS)).json()
    assert doc["name"][0]["languageMap"] == {"@none": NULL}


async def test_batch_entities_refused_for_their_context_alone(client: httpx.AsyncClient) -> None:
    with_context = _car("urn:ngsi-ld:Vehicle:leon:soft-json") | {
        "@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    }
    as_json = await client.post("/ngsi-ld/v1/entityOperations/create", json=[with_context, _car()])
    assert as_json.status_code == 207, as_json.text
    assert as_json.json()["success"] == [CAR]
    [error] = as_json.json()["errors"]
    assert error["entityId"] == "urn:ngsi-ld:Vehicle:leon:soft-json"
    assert error["error"]["type"].endswith("/BadRequestData")
    as_ld = await client.post(
        "/ngsi-ld/v1/entityOperations/upsert",
        json=[_car("urn:ngsi-ld:Vehicle:leon:soft-ld")],
        headers={"Content-Type": "application/ld+json"},
    )
    assert as_ld.status_code == 207, "JSON-LD without @context: that entity refused"
    assert as_ld.json()["errors"][0]["error"]["status"] == 400
    single = await client.post(
        "/ngsi-ld/v1/entities", json=with_context, headers={"Content-Type": "application/json"}
    )
    assert single.status_code == 400, "one entity: the request itself is refused"


async def test_batch_update_without_overwrite_names_what_stayed(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/ngsi-ld/v1/entities", json=_car())).status_code == 201
    fresh = {"id": CAR, "type": "Vehicle", "fuel": {"type": "Property", "value": 0.5}}
    added = await client.post(
        "/ngsi-ld/v1/entityOperations/update", params={"options": "noOverwrite"}, json=[fresh]
    )
    assert added.status_code == 204, "only new attributes: nothing left alone"
    again = fresh | {"speed": {"type": "Property", "value": 1.0}}
    kept = await client.post(
        "/ngsi-ld/v1/entityOperations/update", params={"options": "noOverwrite"}, json=[again]
    )
    assert kept.status_code == 207
    [error] = kept.json()["errors"]
    assert error["entityId"] == CAR
    assert "speed" in error["error"]["detail"]
    assert (await client.get(ENTITY)).json()["speed"]["value"] == 42


async def test_an_instance_of_no_attribute_is_a_bad_request(client: httpx.AsyncClient) -> None:
    assert (await client.post("/ngsi-ld/v1/entities", json=_car())).status_code == 201
    empty = await client.delete(f"{TEMPORAL}/attrs//urn:ngsi-ld:Instance:1")
    assert empty.status_code == 400, "attrs//: an empty attribute name"


async def test_system_times_of_the_instances_kept_whole(client: httpx.AsyncClient) -> None:
    assert (await client.post("/ngsi-ld/v1/entities", json=_car())).status_code == 201
    later = {"isParkedIn": {"type": "Relationship", "object": "urn:ngsi-ld:Parking:leon:p2"}}
    assert (await client.patch(f"{ENTITY}/attrs", json=later)).status_code == 204
    created = await client.get(
        TEMPORAL,
        params={"timeproperty": "createdAt", "timerel": "after", "timeAt": "2000-01-01T00:00:00Z"},
    )
    assert created.status_code == 200, created.text
    doc = created.json()
    assert "speed" not in doc, "readings have no createdAt of their own"
    parked = doc["isParkedIn"]
    assert [i["object"] for i in parked] == [
        "urn:ngsi-ld:Parking:leon:p1",
        "urn:ngsi-ld:Parking:leon:p2",
    ]
    assert all("createdAt" in i for i in parked), "the time the answer goes by is shown"
    pairs = await client.get(
        TEMPORAL, params={"timeproperty": "modifiedAt", "options": "temporalValues"}
    )
    [[_, first_modified], _] = pairs.json()["isParkedIn"]["objects"]
    assert first_modified.endswith("Z")
    none = await client.get(
        TEMPORAL,
        params={"timeproperty": "createdAt", "timerel": "before", "timeAt": "2000-01-01T00:00:00Z"},
    )
    assert set(none.json()) == {"id", "type"}
