"""What notifications say about a change (NGSI-LD 1.8 ``showChanges``): each changed
attribute with the value it held before, read in the change's own transaction; attributes
deleted as NGSI-LD Null; a deleted entity with its system times and attributes. Over the
running API, a real PostgreSQL and the store's readings path."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from acquisition import Batch, Reading, ValueType
from knowledge import PostgresStore
from tests.helpers.notify_receiver import Receiver, receiving
from tests.helpers.subscribing import LEON, platform, subscribe
from tests.helpers.waiting import until

pytestmark = pytest.mark.integration
BUILDING = "urn:ngsi-ld:Building:leon:changes"
SENSOR = "urn:ngsi-ld:Building:leon:sensor"
ENTITY = {
    "id": BUILDING,
    "type": "Building",
    "height": {"type": "Property", "value": 30},
    "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:ana"},
    "street": {"type": "LanguageProperty", "languageMap": {"es": "Ancha", "en": "Wide"}},
}


async def _notified(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    await until(lambda: len(receiver.entities()) >= count)
    return receiver.entities()[:count]


async def _write(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> None:
    url = f"/ngsi-ld/v1/entities/{BUILDING}{path}" if path != "/" else "/ngsi-ld/v1/entities"
    answer = await http.request(method, url, json=body, headers=LEON)
    assert answer.status_code in (201, 204), answer.text


def _with(uri: str, **notification: Any) -> dict[str, Any]:
    return {"endpoint": {"uri": uri}, "showChanges": True} | notification


async def test_changed_attributes_show_their_previous_values(database_url: str) -> None:
    with receiving() as changes:
        async with platform(database_url) as (http, _):
            await _write(http, "POST", "/", ENTITY)
            triggers = ["attributeUpdated", "attributeDeleted"]
            await subscribe(
                http, changes.uri, entities=[{"type": "Building"}],
                notification=_with(changes.uri), notificationTrigger=triggers,
            )  # fmt: skip
            await _write(http, "PATCH", "/attrs", {"height": {"type": "Property", "value": 31}})
            (taller,) = await _notified(changes, 1)
            assert taller["height"] == {"type": "Property", "value": 31, "previousValue": 30}, (
                "a reading: the value it replaced, and no observedAt as none was written"
            )
            assert "previousObject" not in taller["owner"], "only what changed"
            moved = {"owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:eva"}}
            await _write(http, "PATCH", "/attrs", moved)
            renamed = {"street": {"type": "LanguageProperty", "languageMap": {"es": "Estrecha"}}}
            await _write(http, "PATCH", "/attrs", renamed)
            await _write(http, "DELETE", "/attrs/height")
            _, owner, street, height = await _notified(changes, 4)
            assert owner["owner"]["previousObject"] == "urn:ngsi-ld:Person:ana"
            assert street["street"]["previousLanguageMap"] == {"es": "Ancha", "en": "Wide"}
            assert height["height"] == {
                "type": "Property", "value": "urn:ngsi-ld:null", "previousValue": 31
            }, "a deleted attribute: NGSI-LD Null, and what it was"  # fmt: skip


async def test_a_deleted_entity_is_notified_with_what_it_held(database_url: str) -> None:
    with receiving() as lifecycle, receiving() as watched:
        async with platform(database_url) as (http, _):
            await _write(http, "POST", "/", ENTITY)
            await subscribe(http, lifecycle.uri, entities=[{"type": "Building"}],
                            notification=_with(lifecycle.uri, sysAttrs=True),
                            notificationTrigger=["entityDeleted"])  # fmt: skip
            await subscribe(http, watched.uri, entities=[{"type": "Building"}],
                            watchedAttributes=["owner"],
                            notificationTrigger=["attributeDeleted"])  # fmt: skip
            await _write(http, "DELETE", "")
            (gone,) = await _notified(lifecycle, 1)
            assert {"createdAt", "modifiedAt", "deletedAt"} <= gone.keys()
            height = gone["height"]
            assert height == {
                "type": "Property", "value": "urn:ngsi-ld:null", "previousValue": 30,
                "deletedAt": gone["deletedAt"], "createdAt": height["createdAt"],
                "modifiedAt": height["modifiedAt"],
            }, "a reading deleted with its entity: the system times it had"  # fmt: skip
            assert height["createdAt"] <= height["modifiedAt"] <= gone["deletedAt"]
            assert gone["street"]["previousLanguageMap"] == {"es": "Ancha", "en": "Wide"}
            assert gone["owner"]["previousObject"] == "urn:ngsi-ld:Person:ana"
            (owner,) = await _notified(watched, 1)
            assert owner == {"id": BUILDING, "type": "Building", "deletedAt": owner["deletedAt"],
                             "owner": {"type": "Relationship", "object": "urn:ngsi-ld:null"}}, (
                "its deletion deleted the watched attribute: only that one is shown"
            )  # fmt: skip


def _reading(level: float, minute: int) -> Batch:
    at = datetime.now(UTC) + timedelta(minutes=minute)  # after the entity's creation
    reading = Reading("leon", SENSOR, "Building", "level", at, level, ValueType.NUMBER)
    return Batch((reading,), (), ())


async def test_previous_values_are_exact_under_concurrent_writes(database_url: str) -> None:
    """Concurrent batches on one attribute: each change names the value it replaced, so
    the notified (previous, new) pairs chain from the first value to the last."""
    with receiving() as changes:
        async with platform(database_url) as (http, store):
            await http.post("/ngsi-ld/v1/entities", headers=LEON, json={
                "id": SENSOR, "type": "Building", "level": {"type": "Property", "value": 0}
            })  # fmt: skip
            await subscribe(http, changes.uri, entities=[{"type": "Building"}],
                            notification=_with(changes.uri))  # fmt: skip
            await _concurrently(store, 12)
            final = (await store.get_entity("leon", SENSOR)).attributes[0].value
            await until(lambda: any(e["level"]["value"] == final for e in changes.entities()))
    pairs = {e["level"]["previousValue"]: e["level"]["value"] for e in changes.entities()}
    value, steps = 0, 0
    while value in pairs:
        value, steps = pairs[value], steps + 1
    assert (value, steps) == (final, len(pairs)), f"one chain from 0 to {final}: {pairs}"


async def _concurrently(store: PostgresStore, count: int) -> None:
    # later minutes for higher levels: a batch that loses the race to a newer one changes
    # nothing (the state only moves forward), one that wins replaces what is there
    await asyncio.gather(
        *(store.write_batch(_reading(float(n), 10 + n)) for n in range(1, count + 1))
    )


async def test_an_instance_deleted_by_dataset_id_is_notified_as_null(database_url: str) -> None:
    french = {"type": "Property", "value": "Ancha", "datasetId": "urn:ngsi-ld:Dataset:fr"}
    names = [{"type": "Property", "value": "Wide"}, french | {"value": "Large"}]
    with receiving() as deletions:
        async with platform(database_url) as (http, _):
            await _write(http, "POST", "/", {"id": BUILDING, "type": "Building", "name": names})
            await subscribe(http, deletions.uri, entities=[{"type": "Building"}],
                            watchedAttributes=["name"], notification=_with(deletions.uri),
                            notificationTrigger=["attributeDeleted"])  # fmt: skip
            await _write(http, "DELETE", "/attrs/name?datasetId=urn:ngsi-ld:Dataset:fr")
            (notified,) = await _notified(deletions, 1)
            assert notified["name"] == [
                {"type": "Property", "value": "Wide"},
                {"type": "Property", "value": "urn:ngsi-ld:null",
                 "datasetId": "urn:ngsi-ld:Dataset:fr", "previousValue": "Large"},
            ], "the instances left as they are, the one deleted as NGSI-LD Null"  # fmt: skip
