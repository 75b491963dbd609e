"""Which writes notify (NGSI-LD notificationTrigger), over the running API and a real
PostgreSQL: entities created and deleted, attributes kept whole (a Relationship) updated,
attributes deleted, and subscriptions selecting types by expression."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.notify_receiver import Receiver, receiving
from tests.helpers.subscribing import LEON, platform, subscribe
from tests.helpers.waiting import until

pytestmark = pytest.mark.integration
BUILDING = "urn:ngsi-ld:Building:leon:triggers"


async def _notified(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    await until(lambda: len(receiver.notifications) >= count)
    return [entity for n in receiver.notifications[:count] for entity in n["data"]]


async def _write(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> None:
    url = f"/ngsi-ld/v1/entities/{BUILDING}{path}" if path != "/" else "/ngsi-ld/v1/entities"
    answer = await http.request(method, url, json=body, headers=LEON)
    assert answer.status_code in (201, 204), answer.text


async def test_entity_creation_and_deletion_notify_whom_they_concern(database_url: str) -> None:
    body = {"id": BUILDING, "type": "Building",
            "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:ana"}}  # fmt: skip
    with receiving() as lifecycle, receiving() as default:
        async with platform(database_url) as (http, _):
            await subscribe(http, lifecycle.uri, entities=[{"type": "(Building|Tower)"}],
                            notificationTrigger=["entityCreated", "entityDeleted"])  # fmt: skip
            await subscribe(http, default.uri, entities=[{"type": "Building"}])
            await _write(http, "POST", "/", body)
            (created,) = await _notified(lifecycle, 1)
            assert (created["id"], created["owner"]["object"]) == (
                BUILDING,
                "urn:ngsi-ld:Person:ana",
            )
            await _notified(default, 1)  # the attributes it was created with are created
            moved = {"owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:eva"}}
            await _write(http, "PATCH", "/attrs", moved)
            changed = await _notified(default, 2)
            assert changed[1]["owner"]["object"] == "urn:ngsi-ld:Person:eva", (
                "an attribute kept whole (no reading) notifies its update"
            )
            await _write(http, "DELETE", "")
            deleted = await _notified(lifecycle, 2)
            assert deleted[1].keys() == {"id", "type", "deletedAt"}, "when it went (4.8)"
            assert len(lifecycle.notifications) == 2, "the update was no entity event"


async def test_attribute_deletions_notify_only_when_asked(database_url: str) -> None:
    body = {"id": BUILDING, "type": "Building", "height": {"type": "Property", "value": 30},
            "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:ana"}}  # fmt: skip
    with receiving() as deletions:
        async with platform(database_url) as (http, _):
            await subscribe(http, deletions.uri, entities=[{"type": "Building"}],
                            watchedAttributes=["owner"],
                            notificationTrigger=["attributeDeleted"])  # fmt: skip
            await _write(http, "POST", "/", body)
            await _write(http, "DELETE", "/attrs/height")
            await _write(http, "DELETE", "/attrs/owner")
            (notified,) = await _notified(deletions, 1)
            assert notified == {"id": BUILDING, "type": "Building", "owner": {
                "type": "Relationship", "object": "urn:ngsi-ld:null"
            }}, "the entity as it is now, the attribute deleted as NGSI-LD Null"  # fmt: skip
            assert len(deletions.notifications) == 1, (
                "height is not watched: its deletion, queued first, would have come first"
            )


async def test_an_entity_of_several_types_notifies_subscriptions_on_any_of_them(
    database_url: str,
) -> None:
    body = {"id": BUILDING, "type": ["Building", "Tower"],
            "height": {"type": "Property", "value": 30}}  # fmt: skip
    with receiving() as second, receiving() as both, receiving() as other:
        async with platform(database_url) as (http, _):
            await subscribe(http, second.uri, entities=[{"type": "Tower"}],
                            notificationTrigger=["attributeUpdated", "entityDeleted"])  # fmt: skip
            await subscribe(http, both.uri, entities=[{"type": "Building;Tower"}],
                            notificationTrigger=["attributeUpdated"])  # fmt: skip
            await subscribe(http, other.uri, entities=[{"type": "Building;House"}])
            await _write(http, "POST", "/", body)
            await _write(http, "PATCH", "/attrs", {"height": {"type": "Property", "value": 31}})
            (raised,) = await _notified(second, 1)
            assert raised["type"] == ["Building", "Tower"], "a reading, via the second type"
            assert raised["height"]["value"] == 31
            (raised_too,) = await _notified(both, 1)
            assert raised_too["height"]["value"] == 31, "Building;Tower: an entity of both"
            owner = {"type": "Relationship", "object": "urn:ngsi-ld:Person:eva"}
            await _write(http, "POST", "/attrs", {"owner": owner})
            await _write(http, "PATCH", "/attrs", {"owner": owner | {"object": "urn:x:y"}})
            moved = (await _notified(second, 2))[1]
            assert moved["owner"]["object"] == "urn:x:y", "an attribute kept whole, too"
            await _notified(both, 2)
            await _write(http, "DELETE", "")
            gone = (await _notified(second, 3))[2]
            assert (gone["id"], gone["type"]) == (BUILDING, ["Building", "Tower"])
            assert len(both.notifications) == 2, "the owner's update notified it, not the rest"
            assert other.notifications == [], "Building;House needs both types"
