"""User @contexts over the running API: expansion in, compaction out, fetched once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from interoperability import create_app
from support import Settings
from support.net import LOOPBACK, free_port
from tests.helpers.api_client import TEST_API_SETTINGS
from tests.helpers.context_server import ContextServer, serving_context
from tests.helpers.databases import database_at
from tests.helpers.notify_receiver import receiving
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.integration
SDM = "https://smartdatamodels.org/dataModel.Environment/"
USER_CONTEXT = {
    "@context": {
        "ex": "http://example.org/",
        "Ruido": SDM + "NoiseLevelObserved",
        "ruido": {"@id": SDM + "LAeq"},
        "humedad": "ex:humidity",
    }
}
SDM_URL = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"
LEON = {"NGSILD-Tenant": "leon"}
ENTITY_ID = "urn:ngsi-ld:NoiseLevelObserved:leon:ctx1"


@pytest.fixture
def context_server() -> Iterator[ContextServer]:
    with serving_context(USER_CONTEXT) as served:
        yield served


@pytest.fixture
async def http(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, api_auth="off", **TEST_API_SETTINGS)  # type: ignore[arg-type]
    app = create_app(settings, database=database_at(database_url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client,
    ):
        yield client


def link(url: str) -> dict[str, str]:
    return LEON | {
        "Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    }


async def test_terms_of_a_linked_context_map_to_the_stored_names(
    http: httpx.AsyncClient, context_server: ContextServer
) -> None:
    mine = link(context_server.url)
    created = await http.post(
        "/ngsi-ld/v1/entities",
        headers=mine,
        json={
            "id": ENTITY_ID,
            "type": "Ruido",
            "ruido": {"type": "Property", "value": 61.0, "observedAt": "2026-11-22T08:00:00Z"},
            "humedad": {"type": "Property", "value": 40.0, "observedAt": "2026-11-22T08:00:00Z"},
        },
    )
    assert created.status_code == 201, created.text
    # Without a context the platform's own (Smart Data Models) names answer.
    plain = (await http.get(f"/ngsi-ld/v1/entities/{ENTITY_ID}", headers=LEON)).json()
    assert plain["type"] == "NoiseLevelObserved"
    assert plain["LAeq"]["value"] == 61.0
    assert plain["http://example.org/humidity"]["value"] == 40.0
    # With it, the client's names come back, and the Link names its context.
    answer = await http.get(f"/ngsi-ld/v1/entities/{ENTITY_ID}", headers=mine)
    assert answer.json()["type"] == "Ruido"
    assert set(answer.json()) == {"id", "type", "ruido", "humedad"}
    assert context_server.url in answer.headers["link"]
    queried = await http.get(
        "/ngsi-ld/v1/entities",
        headers=mine,
        params={"type": "Ruido", "q": "ruido>60", "attrs": "ruido"},
    )
    assert [set(e) for e in queried.json()] == [{"id", "type", "ruido"}]
    none = await http.get(
        "/ngsi-ld/v1/entities", headers=mine, params={"type": "Ruido", "q": "ruido>70"}
    )
    assert none.json() == []
    history = await http.get(f"/ngsi-ld/v1/temporal/entities/{ENTITY_ID}", headers=mine)
    assert [i["value"] for i in history.json()["ruido"]] == [61.0]
    kept = await http.post(f"/ngsi-ld/v1/entities/{ENTITY_ID}/attrs", headers=mine,
                           params={"options": "noOverwrite"},
                           json={"humedad": {"type": "Property", "value": 1.0}})  # fmt: skip
    assert kept.json()["notUpdated"][0]["attributeName"] == "humedad", "207s speak its terms"
    paged = await http.get("/ngsi-ld/v1/entities", headers=mine,
                           params={"type": "Ruido", "limit": "1", "offset": "1"})  # fmt: skip
    assert context_server.url in paged.headers["link"]
    assert 'rel="prev"' in paged.headers["link"], "the pages stay beside the client's context"
    removed = await http.delete(f"/ngsi-ld/v1/entities/{ENTITY_ID}/attrs/humedad", headers=mine)
    assert removed.status_code == 204
    left = (await http.get(f"/ngsi-ld/v1/entities/{ENTITY_ID}", headers=LEON)).json()
    assert "http://example.org/humidity" not in left
    assert context_server.fetches == 1  # fetched once, then cached


async def test_ld_json_bodies_carry_their_context_and_get_it_back(
    http: httpx.AsyncClient,
) -> None:
    inline = USER_CONTEXT["@context"]
    created = await http.post(
        "/ngsi-ld/v1/entities",
        headers=LEON | {"Content-Type": "application/ld+json"},
        content=json.dumps(
            {
                "id": ENTITY_ID,
                "type": "Ruido",
                "@context": inline,
                "ruido": {"type": "Property", "value": 55.0},
            }
        ),
    )
    assert created.status_code == 201, created.text
    plain = (await http.get(f"/ngsi-ld/v1/entities/{ENTITY_ID}", headers=LEON)).json()
    assert plain["LAeq"]["value"] == 55.0
    as_ld = await http.get(
        f"/ngsi-ld/v1/entities/{ENTITY_ID}",
        headers=link(SDM_URL) | {"Accept": "application/ld+json"},
    )
    assert as_ld.headers["content-type"].startswith("application/ld+json")
    assert as_ld.json()["@context"] == SDM_URL  # a built-in context: never fetched
    assert as_ld.json()["LAeq"]["value"] == 55.0
    missing = await http.post(
        "/ngsi-ld/v1/entities",
        headers=LEON | {"Content-Type": "application/ld+json"},
        content=json.dumps({"id": "urn:x:1", "type": "T"}),
    )
    assert missing.status_code == 400
    assert "@context" in missing.json()["detail"]
    as_json = await http.post(
        "/ngsi-ld/v1/entities",
        headers=LEON | {"Content-Type": "application/json"},
        content=json.dumps({"id": "urn:x:2", "type": "T", "@context": SDM_URL}),
    )
    assert as_json.status_code == 400, "JSON names its context in Link, never in the body"


async def test_an_unreachable_context_is_a_503_and_core_needs_no_fetch(
    http: httpx.AsyncClient,
) -> None:
    gone = await http.get(
        "/ngsi-ld/v1/entities",
        params={"type": "T"},
        headers=link(f"http://{LOOPBACK}:{free_port()}/nothing.jsonld"),
    )
    assert gone.status_code == 503
    assert gone.json()["type"].endswith("/LdContextNotAvailable")
    core = await http.get(
        "/ngsi-ld/v1/entities",
        params={"type": "T"},
        headers=link("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"),
    )
    assert core.status_code == 200


async def test_subscriptions_store_the_platform_names_of_linked_terms(
    http: httpx.AsyncClient, context_server: ContextServer
) -> None:
    created = await http.post(
        "/ngsi-ld/v1/subscriptions",
        headers=link(context_server.url),
        json={
            "entities": [{"type": "Ruido"}],
            "watchedAttributes": ["ruido"],
            "q": "ruido>70",
            "notification": {"attributes": ["ruido"], "endpoint": {"uri": "http://127.0.0.1:9/n"}},
        },
    )
    assert created.status_code == 201, created.text
    listed = (await http.get("/ngsi-ld/v1/subscriptions", headers=LEON)).json()
    assert listed[0]["entities"] == [{"type": "NoiseLevelObserved"}]
    assert (listed[0]["watchedAttributes"], listed[0]["q"]) == (["LAeq"], "LAeq>70")
    assert listed[0]["notification"]["attributes"] == ["LAeq"]
    mine = (await http.get("/ngsi-ld/v1/subscriptions", headers=link(context_server.url))).json()
    assert (mine[0]["watchedAttributes"], mine[0]["q"]) == (["ruido"], "ruido>70")


async def test_notifications_speak_the_subscribers_context(
    http: httpx.AsyncClient, context_server: ContextServer
) -> None:
    with receiving() as receiver:
        created = await http.post(
            "/ngsi-ld/v1/subscriptions",
            headers=link(context_server.url),
            json={
                "entities": [{"type": "Ruido"}],
                "notification": {
                    "endpoint": {"uri": receiver.uri, "accept": "application/ld+json"}
                },
            },
        )
        assert created.status_code == 201, created.text
        await http.post(
            "/ngsi-ld/v1/entities",
            headers=LEON,
            json={
                "id": ENTITY_ID,
                "type": "NoiseLevelObserved",
                "LAeq": {"type": "Property", "value": 72.0},
            },
        )

        async def notified() -> bool:
            return bool(receiver.entities())

        await wait_until(notified)
    assert receiver.entities()[0]["type"] == "Ruido"
    assert receiver.entities()[0]["ruido"]["value"] == 72.0
    assert receiver.notifications[0]["@context"] == context_server.url


async def test_a_subscriptions_jsonld_context_compacts_its_notifications(
    http: httpx.AsyncClient, context_server: ContextServer
) -> None:
    """jsonldContext is fetched at creation (503 if it cannot be had) and compacts what is
    notified, whatever context the subscription was created with."""
    body = {"entities": [{"type": "NoiseLevelObserved"}],
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/x"}}}  # fmt: skip
    missing = f"http://{LOOPBACK}:{free_port()}/missing.jsonld"
    refused = await http.post("/ngsi-ld/v1/subscriptions", headers=LEON,
                              json=body | {"jsonldContext": missing})  # fmt: skip
    assert (refused.status_code, refused.json()["type"]) == (
        503,
        "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable",
    )
    with receiving() as receiver:
        body["notification"] = {"endpoint": {"uri": receiver.uri, "accept": "application/ld+json"}}
        created = await http.post("/ngsi-ld/v1/subscriptions", headers=LEON,
                                  json=body | {"jsonldContext": context_server.url})  # fmt: skip
        assert created.status_code == 201, created.text
        entity = {"id": ENTITY_ID, "type": "NoiseLevelObserved",
                  "LAeq": {"type": "Property", "value": 72.0}}  # fmt: skip
        assert (
            await http.post("/ngsi-ld/v1/entities", headers=LEON, json=entity)
        ).status_code == 201

        async def notified() -> bool:
            return bool(receiver.entities())

        await wait_until(notified)
    (sent,) = receiver.entities()
    assert (sent["type"], sent["ruido"]["value"]) == ("Ruido", 72.0)
    assert sent["@context"] == context_server.url, "each JSON-LD entity carries its context"


async def test_sub_attributes_are_named_by_the_clients_context_too(
    http: httpx.AsyncClient, context_server: ContextServer
) -> None:
    mine = link(context_server.url)
    reading = {"type": "Property", "value": 61.0, "humedad": {"type": "Property", "value": 40}}
    body = {"id": ENTITY_ID, "type": "Ruido", "ruido": reading}
    assert (await http.post("/ngsi-ld/v1/entities", headers=mine, json=body)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{ENTITY_ID}"
    plain = (await http.get(url, headers=LEON)).json()
    assert plain["LAeq"]["http://example.org/humidity"]["value"] == 40, "stored by its IRI"
    again = {"type": "Property", "value": 62.0, "humedad": {"type": "Property", "value": 41}}
    assert (await http.put(f"{url}/attrs/ruido", headers=mine, json=again)).status_code == 204
    theirs = (await http.get(url, headers=mine)).json()
    assert theirs["ruido"]["humedad"]["value"] == 41, "and read back in the client's terms"


async def test_instances_of_an_attribute_named_by_an_iri_are_reached(
    http: httpx.AsyncClient, context_server: ContextServer
) -> None:
    """humedad is http://example.org/humidity here: its '/' must not split the path of
    .../attrs/{attr}/{instanceId}."""
    mine = link(context_server.url)
    body = {"id": ENTITY_ID, "type": "Ruido", "humedad": [
        {"type": "Property", "value": 40.0, "observedAt": "2026-11-22T08:00:00Z"},
        {"type": "Property", "value": 41.0, "observedAt": "2026-11-22T08:01:00Z"},
    ]}  # fmt: skip
    created = await http.post("/ngsi-ld/v1/temporal/entities", headers=mine, json=body)
    assert created.status_code == 201, created.text
    url = f"/ngsi-ld/v1/temporal/entities/{ENTITY_ID}"
    first = (await http.get(url, headers=mine)).json()["humedad"][0]["instanceId"]
    changed = await http.patch(f"{url}/attrs/humedad/{first}", headers=mine,
                               json={"type": "Property", "value": 39.0})  # fmt: skip
    assert changed.status_code == 204, changed.text
    assert [i["value"] for i in (await http.get(url, headers=mine)).json()["humedad"]] == [
        39.0,
        41.0,
    ]
    assert (await http.delete(f"{url}/attrs/humedad/{first}", headers=mine)).status_code == 204
    assert (await http.delete(f"{url}/attrs/humedad", headers=mine)).status_code == 204
    assert "humedad" not in (await http.get(url, headers=mine)).json()
