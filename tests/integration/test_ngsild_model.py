"""NGSI-LD shapes vertical apps send, through the API on a real PostgreSQL: every attribute
type, sub-attributes, several instances by datasetId and scope are kept as written; the
spec's paths with a trailing slash; ProblemDetails for routing errors; subscriptions
counted and in JSON-LD."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
BUILDING = "urn:ngsi-ld:Building:model-1"
RICH: dict[str, Any] = {
    "name": {"type": "LanguageProperty", "languageMap": {"es": "Catedral", "en": "Cathedral"}},
    "plan": {"type": "JsonProperty", "json": {"floors": [1, 2], "open": True}},
    "category": {"type": "VocabProperty", "vocab": "religious"},
    "tags": {"type": "ListProperty", "valueList": ["gothic", "unesco"]},
    "neighbours": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:B:2"}]},
    "temperature": [
        {"type": "Property", "value": 21.5, "unitCode": "CEL", "datasetId": "urn:ngsi-ld:d:in"},
        {"type": "Property", "value": 9.0, "unitCode": "CEL", "datasetId": "urn:ngsi-ld:d:out"},
    ],
    "occupancy": {
        "type": "Property",
        "value": 120,
        "observedAt": "2026-12-01T10:00:00Z",
        "accuracy": {"type": "Property", "value": 0.95},
        "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Sensor:9"},
    },
}


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


async def test_routing_errors_are_problem_details(client: httpx.AsyncClient) -> None:
    no_path = await client.get("/ngsi-ld/v1/nothing-here")
    assert no_path.status_code == 404
    assert no_path.json()["type"] == ERRORS + "ResourceNotFound"
    no_method = await client.delete("/ngsi-ld/v1/subscriptions/")
    assert no_method.status_code == 405
    assert no_method.json()["title"] == "Method not allowed"


async def test_subscriptions_are_counted_and_answered_in_json_ld(
    client: httpx.AsyncClient,
) -> None:
    for n in range(3):
        made = await client.post(
            "/ngsi-ld/v1/subscriptions",
            json={
                "id": f"urn:ngsi-ld:Subscription:model-{n}",
                "entities": [{"type": "NoiseLevelObserved"}],
                "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}},
            },
        )
        assert made.status_code == 201, made.text
    page = await client.get("/ngsi-ld/v1/subscriptions", params={"count": "true", "limit": 1})
    assert page.headers["NGSILD-Results-Count"] == "3"
    assert len(page.json()) == 1
    one = await client.get(
        "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:model-0",
        headers={"Accept": "application/ld+json"},
    )
    assert one.headers["content-type"].startswith("application/ld+json")
    assert one.json()["@context"]
    assert (one.json()["status"], "isActive" in one.json()) == ("active", False)  # the default
    paused = await client.patch(
        "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:model-0", json={"isActive": False}
    )
    assert paused.status_code == 204
    one = await client.get("/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:model-0")
    assert (one.json()["status"], one.json()["isActive"]) == ("paused", False)
    assert "pendingNotifications" not in one.json()  # an extension shown when not zero
    past = await client.patch(
        "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:model-0",
        json={"expiresAt": "2020-01-01T00:00:00Z"},
    )
    assert past.status_code == 400


async def test_discovery_names_the_types_and_attributes_held(client: httpx.AsyncClient) -> None:
    body = {"id": BUILDING, "type": "Building", **RICH}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    types = (await client.get("/ngsi-ld/v1/types")).json()
    assert types["type"] == "EntityTypeList"
    assert "Building" in types["typeList"]
    assert "NoiseLevelObserved" in types["typeList"]  # the fixture's
    info = (await client.get("/ngsi-ld/v1/types/Building")).json()
    assert (info["type"], info["typeName"], info["entityCount"]) == (
        "EntityTypeInfo",
        "Building",
        1,
    )
    kinds = {d["attributeName"]: d["attributeTypes"] for d in info["attributeDetails"]}
    assert kinds["name"] == ["LanguageProperty"]
    assert kinds["temperature"] == ["Property"]
    assert kinds["neighbours"] == ["ListRelationship"]
    assert (await client.get("/ngsi-ld/v1/types/Castle")).status_code == 404
    plan = (await client.get("/ngsi-ld/v1/attributes/plan")).json()
    assert (plan["attributeCount"], plan["attributeTypes"], plan["typeNames"]) == (
        1,
        ["JsonProperty"],
        ["Building"],
    )
    listed = (await client.get("/ngsi-ld/v1/attributes")).json()
    assert {"plan", "occupancy", "LAeq"} <= set(listed["attributeList"])
    details = (await client.get("/ngsi-ld/v1/types", params={"details": "true"})).json()
    building = next(d for d in details if d["typeName"] == "Building")
    assert building["type"] == "EntityType"
    assert "occupancy" in building["attributeNames"]


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


async def test_the_temporal_evolution_of_several_entities(client: httpx.AsyncClient) -> None:
    url = "/ngsi-ld/v1/temporal/entities"
    found = await client.get(url, params={"type": "NoiseLevelObserved", "attrs": "LAeq",
                                          "count": "true"})  # fmt: skip
    assert found.status_code == 200, found.text
    assert found.headers["NGSILD-Results-Count"] == "2"
    by_id = {e["id"].rsplit(":", 1)[-1]: e for e in found.json()}
    assert [i["value"] for i in by_id["n1"]["LAeq"]] == [60.0, 70.0, 60.0, 70.0, 60.0]
    assert len(by_id["n2"]["LAeq"]) == 2
    simple = await client.get(
        url, params={"type": "NoiseLevelObserved", "attrs": "LAeq", "options": "temporalValues",
                     "id": "urn:ngsi-ld:NoiseLevelObserved:leon:n2"},
    )  # fmt: skip
    (n2,) = simple.json()
    assert n2["LAeq"]["type"] == "Property"
    assert [v for v, _ in n2["LAeq"]["values"]] == [50.0, 50.0]
    assert (await client.get(url)).status_code == 400  # which entities, then?


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
    empty = await client.post("/ngsi-ld/v1/entities", json={})
    assert empty.json()["type"] == ERRORS + "InvalidRequest"


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


async def test_subscriptions_project_with_pick_or_omit_and_refuse_both_ways(
    client: httpx.AsyncClient,
) -> None:
    def subscription(sub_id: str, **notification: Any) -> dict[str, Any]:
        endpoint = {"uri": "http://127.0.0.1:9/n"}
        return {
            "id": sub_id,
            "entities": [{"type": "NoiseLevelObserved"}],
            "notification": {"endpoint": endpoint, **notification},
        }

    url = "/ngsi-ld/v1/subscriptions"
    made = await client.post(url, json=subscription("urn:ngsi-ld:Subscription:p", omit=["LAeq"]))
    assert made.status_code == 201, made.text
    for wrong in (
        subscription("urn:ngsi-ld:Subscription:q", pick=["LAeq"], omit=["LAeq"]),
        subscription("urn:ngsi-ld:Subscription:r", pick=["LAeq"], attributes=["LAeq"]),
        subscription("not-a-uri"),
    ):
        refused = await client.post(url, json=wrong)
        assert (refused.status_code, refused.json()["type"]) == (400, ERRORS + "BadRequestData")


async def test_entities_answer_as_key_values_projected_or_as_geojson(
    client: httpx.AsyncClient,
) -> None:
    where = {"type": "Point", "coordinates": [-5.5667, 42.5987]}
    body = {"id": BUILDING, "type": "Building", "location": {"type": "GeoProperty", "value": where},
            **RICH}  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}"
    simple = (await client.get(url, params={"options": "keyValues"})).json()
    assert simple["name"] == {"es": "Catedral", "en": "Cathedral"}
    assert simple["occupancy"] == 120
    assert simple["temperature"] == [21.5, 9.0]
    picked = (await client.get(url, params={"pick": "id,plan"})).json()
    assert picked == {"id": BUILDING, "plan": RICH["plan"]}
    omitted = (await client.get(url, params={"omit": "plan,name"})).json()
    assert ("plan" in omitted, "occupancy" in omitted) == (False, True)
    geo = await client.get(url, headers={"Accept": "application/geo+json"},
                           params={"options": "keyValues"})  # fmt: skip
    assert geo.headers["content-type"].startswith("application/geo+json")
    feature = geo.json()
    assert (feature["type"], feature["geometry"]) == ("Feature", where)
    assert (feature["properties"]["type"], feature["properties"]["occupancy"]) == ("Building", 120)
    collection = await client.get("/ngsi-ld/v1/entities", params={"type": "Building"},
                                  headers={"Accept": "application/geo+json"})  # fmt: skip
    assert collection.json()["type"] == "FeatureCollection"
    assert [f["id"] for f in collection.json()["features"]] == [BUILDING]


async def test_what_cannot_be_answered_or_is_not_a_parameter_is_refused(
    client: httpx.AsyncClient,
) -> None:
    xml = await client.get("/ngsi-ld/v1/entities", params={"type": "Building"},
                           headers={"Accept": "application/xml"})  # fmt: skip
    assert (xml.status_code, xml.json()["type"]) == (406, ERRORS + "NotAcceptable")
    anything = await client.get("/ngsi-ld/v1/entities", params={"type": "B"},
                                headers={"Accept": "text/html, */*;q=0.1"})  # fmt: skip
    assert anything.status_code == 200
    odd = await client.get("/ngsi-ld/v1/entities", params={"type": "B", "invalidParams": "x"})
    assert (odd.status_code, odd.json()["type"]) == (400, ERRORS + "InvalidRequest")
    assert "invalidParams" in odd.json()["detail"]


async def test_asking_for_attributes_or_ids_that_cannot_be(client: httpx.AsyncClient) -> None:
    body = {"id": BUILDING, "type": "Building", "floors": {"type": "Property", "value": 3}}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}"
    assert (await client.get(url, params={"attrs": "floors"})).status_code == 200
    assert (await client.get(url, params={"attrs": "height"})).status_code == 404
    bad_id = await client.get("/ngsi-ld/v1/entities", params={"id": "not a uri"})
    assert bad_id.status_code == 400


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


async def test_reads_by_language_instance_and_temporal_projection(
    client: httpx.AsyncClient,
) -> None:
    floors = {"type": "Property", "value": 3, "observedAt": "2026-12-01T10:00:00Z"}
    body = {"id": BUILDING, "type": "Building", "floors": floors, **RICH}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}"
    spanish = (await client.get(url, params={"lang": "es", "local": "true"})).json()
    assert spanish["name"] == {"type": "Property", "value": "Catedral", "lang": "es"}
    outside = (await client.get(url, params={"datasetId": "urn:ngsi-ld:d:out"})).json()
    assert outside["temperature"]["value"] == 9.0
    assert "occupancy" not in outside  # no instance of that dataset
    temporal = f"/ngsi-ld/v1/temporal/entities/{BUILDING}"
    picked = (await client.get(temporal, params={"pick": "floors"})).json()
    assert set(picked) == {"id", "type", "floors"}
    omitted = (await client.get(temporal, params={"omit": "floors,type"})).json()
    assert set(omitted) == {"id"}
    assert (await client.get(temporal, params={"timeproperty": "modifiedAt"})).status_code == 400


async def test_queries_by_post_and_merges_in_batch(client: httpx.AsyncClient) -> None:
    body = {"id": BUILDING, "type": "Building", "floors": {"type": "Property", "value": 3}}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    query = {"type": "Query", "entities": [{"type": "Building"}], "attrs": ["floors"]}
    found = await client.post("/ngsi-ld/v1/entityOperations/query", json=query,
                              params={"count": "true"})  # fmt: skip
    assert found.status_code == 200, found.text
    assert found.headers["NGSILD-Results-Count"] == "1"
    assert found.json() == [{"id": BUILDING, "type": "Building",
                             "floors": {"type": "Property", "value": 3}}]  # fmt: skip
    by_q = await client.post("/ngsi-ld/v1/entityOperations/query",
                             json={"type": "Query", "q": "floors>2"})  # fmt: skip
    assert [e["id"] for e in by_q.json()] == [BUILDING]
    merged = await client.post(
        "/ngsi-ld/v1/entityOperations/merge",
        json=[{"id": BUILDING, "type": "Building", "floors": {"type": "Property", "value": 4}},
              {"id": "urn:ngsi-ld:Building:none", "type": "Building"}],
    )  # fmt: skip
    assert merged.status_code == 207
    assert merged.json()["success"] == [BUILDING]
    assert (await client.get(f"/ngsi-ld/v1/entities/{BUILDING}")).json()["floors"]["value"] == 4


async def test_system_attributes_and_unknown_options(client: httpx.AsyncClient) -> None:
    body = {"id": BUILDING, "type": "Building", "floors": {"type": "Property", "value": 3}}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}"
    plain_doc = (await client.get(url)).json()
    assert "createdAt" not in plain_doc
    with_sys = (await client.get(url, params={"options": "sysAttrs,keyValues"})).json()
    assert with_sys["createdAt"] <= with_sys["modifiedAt"]
    assert with_sys["floors"] == 3
    assert (await client.get(url, params={"options": "fancy"})).status_code == 400
    assert (await client.get(url, params={"format": "unknown"})).status_code == 400
