"""JSON-LD batches (NGSI-LD 5.6.7, 6.3.5): each entity is read with its own @context; one
whose context cannot be had is reported in the 207, and the others are written."""

from __future__ import annotations

import json

import httpx
import pytest

from support.net import LOOPBACK, free_port

pytestmark = pytest.mark.integration
LD = {"Content-Type": "application/ld+json"}


def _entity(n: int, context: object) -> dict[str, object]:
    return {"id": f"urn:ngsi-ld:Place:b{n}", "type": "Place",
            "nombre": {"type": "Property", "value": f"sitio {n}"}, "@context": context}  # fmt: skip


async def test_each_entity_of_a_batch_is_read_with_its_own_context(
    client: httpx.AsyncClient,
) -> None:
    spanish = {"nombre": "https://smartdatamodels.org/name"}
    other = {"nombre": "http://example.org/nombre"}
    unreachable = f"http://{LOOPBACK}:{free_port()}/gone.jsonld"
    batch = [_entity(1, spanish), _entity(2, other), _entity(3, unreachable)]
    answer = await client.post(
        "/ngsi-ld/v1/entityOperations/create", content=json.dumps(batch), headers=LD
    )
    assert answer.status_code == 207, answer.text
    assert answer.json()["success"] == ["urn:ngsi-ld:Place:b1", "urn:ngsi-ld:Place:b2"]
    (error,) = answer.json()["errors"]
    assert error["entityId"] == "urn:ngsi-ld:Place:b3"
    assert error["error"]["type"].endswith("/LdContextNotAvailable")
    assert error["error"]["status"] == 503
    first = (await client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Place:b1")).json()
    second = (await client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Place:b2")).json()
    assert first["name"]["value"] == "sitio 1", "the Smart Data Models name"
    assert second["http://example.org/nombre"]["value"] == "sitio 2"
