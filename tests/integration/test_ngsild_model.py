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
    assert one.json()["isActive"] is True
