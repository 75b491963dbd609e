"""NGSI-LD shapes vertical apps write, through the API on a real PostgreSQL: every attribute
type, sub-attributes, several instances by datasetId and scope are kept as written;
partial updates, replacements, merges and instance deletions; the spec's paths with a
trailing slash; ids and bodies the API refuses."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.ngsild import BUILDING, ERRORS, RICH

pytestmark = pytest.mark.integration


async def test_every_attribute_type_is_read_back_as_written(client: httpx.AsyncClient) -> None:
    body = {"id": BUILDING, "type": "Building", "scope": ["/Leon/Centro"], **RICH}
    created = await client.post("/ngsi-ld/v1/entities", json=body)
    assert created.status_code == 201, created.text
    entity = (await client.get(f"/ngsi-ld/v1/entities/{BUILDING}")).json()
    assert entity["scope"] == ["/Leon/Centro"]
    for name, written in RICH.items():
        assert entity[name] == written, name


async def test_an_attribute_of_no_ngsi_ld_type_is_refused_naming_them(
    client: httpx.AsyncClient,
) -> None:
    body = {"id": BUILDING, "type": "Building", "height": {"type": "Number", "value": 3}}
    refused = await client.post("/ngsi-ld/v1/entities", json=body)
    assert refused.status_code == 400
    assert "LanguageProperty" in refused.json()["detail"]
    bad_scope = await client.post(
        "/ngsi-ld/v1/entities", json={"id": BUILDING, "type": "Building", "scope": "Leon"}
    )
    assert bad_scope.status_code == 400


async def test_the_specs_paths_with_a_trailing_slash_reach_the_same_operations(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/ngsi-ld/v1/entities/", json={"id": BUILDING, "type": "B"})
    assert created.status_code == 201, created.text
    appended = await client.post(
        f"/ngsi-ld/v1/entities/{BUILDING}/attrs/",
        json={"height": {"type": "Property", "value": 42.0}},
    )
    assert appended.status_code == 204, appended.text
    entity = (await client.get(f"/ngsi-ld/v1/entities/{BUILDING}/")).json()
    assert entity["height"]["value"] == 42.0


async def test_a_partial_attribute_update_changes_only_what_it_gives(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "id": BUILDING,
        "type": "Building",
        "noise": {"type": "Property", "value": 60.0, "unitCode": "2N",
                  "observedAt": "2026-12-01T10:00:00Z"},
        "plan": {"type": "JsonProperty", "json": {"floors": 2}, "source": {"type": "Property",
                                                                          "value": "survey"}},
    }  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    patched = await client.patch(
        f"/ngsi-ld/v1/entities/{BUILDING}/attrs/noise", json={"value": 71.5}
    )
    assert patched.status_code == 204, patched.text
    again = await client.patch(
        f"/ngsi-ld/v1/entities/{BUILDING}/attrs/plan/", json={"json": {"floors": 3}}
    )
    assert again.status_code == 204, again.text
    entity = (await client.get(f"/ngsi-ld/v1/entities/{BUILDING}")).json()
    assert (entity["noise"]["value"], entity["noise"]["unitCode"]) == (71.5, "2N")
    assert entity["plan"] == {"type": "JsonProperty", "json": {"floors": 3},
                              "source": {"type": "Property", "value": "survey"}}  # fmt: skip
    missing = await client.patch(f"/ngsi-ld/v1/entities/{BUILDING}/attrs/nope", json={"value": 1})
    assert missing.status_code == 404
    retyped = await client.patch(f"/ngsi-ld/v1/entities/{BUILDING}/attrs/noise",
                                 json={"type": "Relationship", "object": "urn:x:1"})  # fmt: skip
    assert (retyped.status_code, retyped.json()["type"]) == (400, ERRORS + "BadRequestData")
    keyword = await client.put(f"/ngsi-ld/v1/entities/{BUILDING}/attrs/@invalid",
                               json={"type": "Property", "value": 1})  # fmt: skip
    assert keyword.status_code == 400, "an attribute name cannot be a JSON-LD keyword"


async def test_an_attribute_is_replaced_whole(client: httpx.AsyncClient) -> None:
    noise = {"type": "Property", "value": 60.0, "unitCode": "2N",
             "observedAt": "2026-12-01T10:00:00Z"}  # fmt: skip
    body = {"id": BUILDING, "type": "Building", "noise": noise}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}/attrs/noise"
    replaced = await client.put(url, json={"type": "JsonProperty", "json": {"band": "high"}})
    assert replaced.status_code == 204, replaced.text
    entity = (await client.get(f"/ngsi-ld/v1/entities/{BUILDING}")).json()
    assert entity["noise"] == {"type": "JsonProperty", "json": {"band": "high"}}
    history = (await client.get(f"/ngsi-ld/v1/temporal/entities/{BUILDING}")).json()
    assert history["noise"][0]["value"] == 60.0  # what was observed stays observed
    missing = await client.put(f"{url}-none", json={"type": "Property", "value": 1})
    assert missing.status_code == 404


async def test_ids_that_are_no_uris_or_missing_and_bodies_that_are_no_json_are_told_apart(
    client: httpx.AsyncClient,
) -> None:
    not_uri = await client.get("/ngsi-ld/v1/entities/not-a-uri")
    assert (not_uri.status_code, not_uri.json()["type"]) == (400, ERRORS + "BadRequestData")
    assert (await client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:B:none")).status_code == 404
    missing = await client.post("/ngsi-ld/v1/entities//attrs", json={})
    assert missing.status_code == 400
    no_id = await client.put("/ngsi-ld/v1/entities/", json={"type": "B"})
    assert no_id.status_code == 400
    broken = await client.post(
        "/ngsi-ld/v1/entities", content=b'{"id": "urn:x:1",, }',
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert (broken.status_code, broken.json()["type"]) == (400, ERRORS + "InvalidRequest")
    for not_an_entity, media in ((b"{}", "application/json"), (b"[]", "application/json"),
                                 (b"[]", "application/ld+json")):  # fmt: skip
        empty = await client.post("/ngsi-ld/v1/entities", content=not_an_entity,
                                  headers={"Content-Type": media})  # fmt: skip
        assert empty.json()["type"] == ERRORS + "InvalidRequest", (not_an_entity, media)


async def test_no_observed_at_is_shown_that_the_writer_did_not_give(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "id": BUILDING,
        "type": "Building",
        "floors": {"type": "Property", "value": 3},
        "noise": {"type": "Property", "value": 60.0, "observedAt": "2026-12-01T10:00:00Z"},
    }
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    entity = (await client.get(f"/ngsi-ld/v1/entities/{BUILDING}")).json()
    assert entity["floors"] == {"type": "Property", "value": 3.0}
    assert entity["noise"]["observedAt"] == "2026-12-01T10:00:00Z"
    history = (await client.get(f"/ngsi-ld/v1/temporal/entities/{BUILDING}")).json()
    assert [i["value"] for i in history["floors"]] == [3.0]  # still a reading, with history


async def test_a_merge_removes_what_it_sets_to_the_null_uri(client: httpx.AsyncClient) -> None:
    body = {"id": BUILDING, "type": "Building", "floors": {"type": "Property", "value": 3},
            "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
            "name": {"type": "Property", "value": "Casa Botines"}}  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    merged = await client.patch(
        f"/ngsi-ld/v1/entities/{BUILDING}",
        json={"floors": {"type": "Property", "value": "urn:ngsi-ld:null"},
              "owner": {"type": "Relationship", "object": "urn:ngsi-ld:null"},
              "name": {"type": "Property", "value": "Botines"}},
    )  # fmt: skip
    assert merged.status_code == 204, merged.text
    entity = (await client.get(f"/ngsi-ld/v1/entities/{BUILDING}")).json()
    assert "floors" not in entity
    assert "owner" not in entity
    assert entity["name"]["value"] == "Botines"


async def test_instances_are_deleted_by_dataset_id_and_appends_may_not_overwrite(
    client: httpx.AsyncClient,
) -> None:
    default = {"type": "Property", "value": 20.0}
    inside = {"type": "Property", "value": 21.5, "datasetId": "urn:ngsi-ld:d:in"}
    outside = {"type": "Property", "value": 9.0, "datasetId": "urn:ngsi-ld:d:out"}
    height = {"type": "Property", "value": 30}
    body = {"id": BUILDING, "type": "Building", "scope": "/Leon",
            "temperature": [default, inside, outside], "height": height}  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}"
    gone = await client.delete(f"{url}/attrs/temperature", params={"datasetId": "urn:ngsi-ld:d:in"})
    assert gone.status_code == 204, gone.text
    assert (await client.get(url)).json()["temperature"] == [default, outside]
    again = await client.delete(
        f"{url}/attrs/temperature", params={"datasetId": "urn:ngsi-ld:d:in"}
    )
    assert again.status_code == 404
    assert (await client.delete(f"{url}/attrs/temperature")).status_code == 204  # the default
    assert (await client.get(url)).json()["temperature"] == outside
    every = await client.delete(f"{url}/attrs/temperature", params={"deleteAll": "true"})
    assert every.status_code == 204
    assert "temperature" not in (await client.get(url)).json()

    appended = await client.post(
        f"{url}/attrs", params={"options": "noOverwrite"},
        json={"height": {"type": "Property", "value": 99},
              "floors": {"type": "Property", "value": 8}, "scope": "/Centro"},
    )  # fmt: skip
    assert appended.status_code == 207
    assert [n["attributeName"] for n in appended.json()["notUpdated"]] == ["height"]
    entity = (await client.get(url)).json()
    assert (entity["height"]["value"], entity["floors"]["value"]) == (30, 8)
    assert entity["scope"] == ["/Leon", "/Centro"]


async def test_one_instance_is_updated_or_removed_by_partial_update(
    client: httpx.AsyncClient,
) -> None:
    inside = {"type": "Property", "value": 21.5, "datasetId": "urn:ngsi-ld:d:in"}
    outside = {"type": "Property", "value": 9.0, "datasetId": "urn:ngsi-ld:d:out"}
    body = {"id": BUILDING, "type": "Building", "temperature": [inside, outside], "scope": "/L"}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}"
    changed = await client.patch(f"{url}/attrs/temperature",
                                 json={"value": 22.0, "datasetId": "urn:ngsi-ld:d:in"})  # fmt: skip
    assert changed.status_code == 204, changed.text
    assert (await client.get(url)).json()["temperature"][0]["value"] == 22.0
    nulled = await client.patch(
        f"{url}/attrs/temperature",
        json={"type": "Property", "value": "urn:ngsi-ld:null", "datasetId": "urn:ngsi-ld:d:out"},
    )
    assert nulled.status_code == 204, nulled.text
    entity = (await client.get(url)).json()
    assert entity["temperature"] == inside | {"value": 22.0}
    assert (await client.delete(f"{url}/attrs/scope")).status_code == 204
    assert "scope" not in (await client.get(url)).json()
    history = await client.get(f"/ngsi-ld/v1/temporal/entities/{BUILDING}",
                               params={"attrs": "height"})  # fmt: skip
    assert history.status_code == 404


async def test_updates_and_merges_work_per_instance_beside_a_measured_default(
    client: httpx.AsyncClient,
) -> None:
    """A numeric default instance is a reading (history, roll-ups); an instance of another
    datasetId joins it, an update or merge changes only its own instance, and removing the
    other instances leaves the reading as it was."""
    body = {"id": BUILDING, "type": "Building",
            "temperature": {"type": "Property", "value": 20, "unitCode": "CEL"}}  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}"
    gps = {"type": "Property", "value": 9, "datasetId": "urn:ngsi-ld:d:out"}
    assert (await client.patch(f"{url}/attrs", json={"temperature": gps})).status_code == 204
    assert (await client.get(url)).json()["temperature"] == [body["temperature"], gps]
    merged = await client.patch(
        url, json={"temperature": {"value": 10, "datasetId": gps["datasetId"]}}
    )
    assert merged.status_code == 204, merged.text
    assert (await client.get(url)).json()["temperature"] == [
        body["temperature"],
        gps | {"value": 10},
    ]
    null = {"type": "Property", "value": "urn:ngsi-ld:null", "datasetId": gps["datasetId"]}
    assert (await client.post(f"{url}/attrs", json={"temperature": null})).status_code == 204
    assert (await client.get(url)).json()["temperature"] == body["temperature"]
    measured = await client.patch(url, json={"temperature": {"value": 23}})
    assert measured.status_code == 204
    assert (await client.get(url)).json()["temperature"] == body["temperature"] | {"value": 23}
    history = await client.get(
        f"/ngsi-ld/v1/temporal/entities/{BUILDING}", params={"attrs": "temperature"}
    )
    assert [(i["value"], i.get("datasetId")) for i in history.json()["temperature"]] == [
        (20, None),
        (9, gps["datasetId"]),
        (10, gps["datasetId"]),
        (23, None),
    ], "every instance written is in the history, the default's as readings"
