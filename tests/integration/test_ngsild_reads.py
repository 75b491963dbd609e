"""NGSI-LD reads and their representations, through the API on a real PostgreSQL:
discovery, temporal queries, keyValues/pick/omit/GeoJSON/lang/sysAttrs, queries by POST,
subscriptions counted, in JSON-LD and projected, routing errors, 406 and unknown
parameters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.ngsild import BUILDING, ERRORS, RICH

pytestmark = pytest.mark.integration


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
    only = (await client.get(url, params={"pick": "plan,location{city}"})).json()
    assert only == {"plan": RICH["plan"], "location": body["location"]}, "pick names id too"
    for malformed in ("id;plan", "id,,plan", "id,plan{", "plan{{x}", "plan{,x}", "plan{}"):
        wrong = await client.get(url, params={"pick": malformed})
        assert (wrong.status_code, wrong.json()["type"]) == (400, ERRORS + "BadRequestData")
    members = await client.get(url, params={"attrs": "id,type"})
    assert members.status_code == 400, "id and type are no attributes"
    both = await client.get(url, params={"pick": "plan", "attrs": "plan"})
    assert both.status_code == 400, "pick replaces attrs; both at once is ambiguous"
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
    assert "@context" in collection.json(), "one context for the collection"
    assert "@context" not in collection.json()["features"][0]


async def test_what_cannot_be_answered_or_is_not_a_parameter_is_refused(
    client: httpx.AsyncClient,
) -> None:
    xml = await client.get("/ngsi-ld/v1/entities", params={"type": "Building"},
                           headers={"Accept": "application/xml"})  # fmt: skip
    assert (xml.status_code, xml.json()["type"]) == (406, ERRORS + "NotAcceptable")
    anything = await client.get("/ngsi-ld/v1/entities", params={"type": "B"},
                                headers={"Accept": "text/html, */*;q=0.1"})  # fmt: skip
    assert anything.status_code == 200
    geo = {"Accept": "application/geo+json"}
    history = await client.get("/ngsi-ld/v1/temporal/entities", params={"type": "B"}, headers=geo)
    assert history.status_code == 406, "GeoJSON answers entity reads only"
    assert (await client.get("/ngsi-ld/v1/entities", params={"type": "B"}, headers=geo)).is_success
    query = {"type": "Query", "entities": [{"type": "B"}]}
    by_post = await client.post("/ngsi-ld/v1/entityOperations/query", json=query, headers=geo)
    assert by_post.headers["content-type"].startswith("application/geo+json")
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
    assert set(picked) == {"floors"}, "id and type only when picked"
    nothing = await client.get(temporal, params={"pick": "id,elevator"})
    assert nothing.status_code == 404, "none of what was picked is there"
    both = await client.get(temporal, params={"pick": "floors", "attrs": "floors"})
    assert both.status_code == 400
    omitted = (await client.get(temporal, params={"omit": "floors,type"})).json()
    assert set(omitted) == {"id"} | (set(RICH) - {"scope"}), "every attribute has a history"
    assert (await client.get(temporal, params={"timeproperty": "expiresAt"})).status_code == 400


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
    for odd in ({"options": "fancy"}, {"options": "keyValues,fancy"}, {"format": "fancy"}):
        answer = await client.get(url, params=odd)
        assert (answer.status_code, answer.json()["type"]) == (400, ERRORS + "InvalidRequest")
    assert (await client.get(url, params={"format": "unknown"})).status_code == 400


async def test_attributes_kept_whole_carry_their_creation_and_modification_times(
    client: httpx.AsyncClient,
) -> None:
    """options=sysAttrs shows each kept attribute's createdAt (its first write, through
    replacements and merges) and modifiedAt (its last); without it neither is shown."""
    owner = {"type": "Relationship", "object": "urn:ngsi-ld:Person:ana"}
    body = {"id": BUILDING, "type": "Building", "owner": owner}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}"
    first = (await client.get(url, params={"options": "sysAttrs"})).json()["owner"]
    assert first["createdAt"] == first["modifiedAt"]
    again = {"type": "Relationship", "object": "urn:ngsi-ld:Person:eva"}
    assert (await client.put(f"{url}/attrs/owner", json=again)).status_code == 204
    assert (await client.patch(url, json={"owner": {"object": "urn:x:3"}})).status_code == 204
    later = (await client.get(url, params={"options": "sysAttrs"})).json()["owner"]
    assert (later["object"], later["createdAt"]) == ("urn:x:3", first["createdAt"])
    assert later["modifiedAt"] >= first["modifiedAt"]
    assert (await client.get(url)).json()["owner"] == {"type": "Relationship", "object": "urn:x:3"}
    history = (await client.get(f"/ngsi-ld/v1/temporal/entities/{BUILDING}")).json()
    assert all("createdAt" not in i for i in history["owner"])


async def test_readings_carry_their_creation_and_modification_times_too(
    client: httpx.AsyncClient,
) -> None:
    """A reading's createdAt is its first write, its modifiedAt its last (system times, not
    observation times); merging into it keeps it a reading, with its history."""
    body = {"id": BUILDING, "type": "Building", "occupancy": {"type": "Property", "value": 3}}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{BUILDING}"
    first = (await client.get(url, params={"options": "sysAttrs"})).json()["occupancy"]
    assert first["createdAt"] == first["modifiedAt"]
    assert (await client.patch(f"{url}/attrs/occupancy", json={"value": 4})).status_code == 204
    later = (await client.get(url, params={"options": "sysAttrs"})).json()["occupancy"]
    assert (later["value"], later["createdAt"]) == (4, first["createdAt"])
    assert later["modifiedAt"] > first["modifiedAt"]
    assert set((await client.get(url)).json()["occupancy"]) == {"type", "value"}
    history = (await client.get(f"/ngsi-ld/v1/temporal/entities/{BUILDING}")).json()
    assert [i["value"] for i in history["occupancy"]] == [3, 4], "still a reading"
