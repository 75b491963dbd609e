"""Linked entities in notifications (NGSI-LD 4.5.23, ``notification.join``) over the running
API and a real PostgreSQL: the entity a changed Building links to comes inline or flat."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.notify_receiver import Receiver, receiving
from tests.helpers.subscribing import LEON, platform, subscribe
from tests.helpers.waiting import until

pytestmark = pytest.mark.integration
CITY = {"id": "urn:ngsi-ld:City:leon", "type": "City",
        "name": {"type": "Property", "value": "León"}}  # fmt: skip
BUILDING = {"id": "urn:ngsi-ld:Building:leon:cathedral", "type": "Building",
            "locatedAt": {"type": "Relationship", "object": CITY["id"]}}  # fmt: skip


async def _data(receiver: Receiver) -> list[dict[str, Any]]:
    await until(lambda: len(receiver.notifications) >= 1)
    return list(receiver.notifications[0]["data"])


async def _rename(http: httpx.AsyncClient) -> None:
    url = f"/ngsi-ld/v1/entities/{BUILDING['id']}/attrs"
    body = {"name": {"type": "Property", "value": "Catedral"}}
    assert (await http.post(url, json=body, headers=LEON)).status_code == 204


async def test_the_linked_entity_comes_inline_or_flat(database_url: str) -> None:
    building = [{"type": "Building"}]
    with receiving() as inline, receiving() as flat, receiving() as simple:
        async with platform(database_url) as (http, _):
            created = await http.post("/ngsi-ld/v1/entityOperations/create",
                                      json=[CITY, BUILDING], headers=LEON)  # fmt: skip
            assert created.status_code == 201, created.text
            for receiver, asked in (
                (inline, {"join": "inline"}),
                (flat, {"join": "flat", "attributes": ["locatedAt"]}),
                (simple, {"join": "inline", "format": "simplified"}),
            ):
                notification = {"endpoint": {"uri": receiver.uri}} | asked
                await subscribe(http, receiver.uri, entities=building, notification=notification)
            await _rename(http)
            (joined,) = await _data(inline)
            assert joined["name"] == {"type": "Property", "value": "Catedral"}
            assert joined["locatedAt"]["entity"] == CITY
            assert await _data(flat) == [BUILDING, CITY], "attributes select the changed entity's"
            (plain,) = await _data(simple)
            assert plain["locatedAt"] == {"id": CITY["id"], "type": "City", "name": "León"}
