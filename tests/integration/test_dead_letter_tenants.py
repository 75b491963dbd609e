"""A known device's refused input reaches its tenant's dead letters, through the real
gateway and mosquitto, read back with the tenant's admin key.

Issue 16, item 10: a malformed payload from a provisioned device was dead-lettered with
tenant NULL, so `/ciudad/v1/dead-letters` showed it to no tenant.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from acquisition import MeasurePipeline
from capture import measure_topic
from knowledge import PostgresStore
from support.mosquitto import MosquittoBroker
from tests.helpers.fleet import APIKEY
from tests.helpers.gateway import noise_message, publish, running_gateway
from tests.helpers.keys import Keys, bearer
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_a_known_devices_malformed_payload_reaches_its_tenant(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    keyed: tuple[httpx.AsyncClient, Keys],
) -> None:
    http, keys = keyed
    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}"):
        publish(
            mosquitto,
            [
                (measure_topic(APIKEY, "noise-001"), b"{truncated"),  # provisioned device
                (measure_topic(APIKEY, "not-provisioned"), b'{"laeq": 50}'),  # its group
                (measure_topic("nobodys-key", "x"), b"{}"),  # no tenant to tell
                noise_message(50.0),
            ],
        )

        async def three_letters() -> bool:
            return len(await store.dead_letters(None, 10)) == 3

        await wait_until(three_letters)
    answer = await http.get("/ciudad/v1/dead-letters", headers=bearer(keys.admin))
    assert answer.status_code == 200, answer.text
    seen = sorted((d["reason"], d["tenant"], d["device_id"]) for d in answer.json())
    assert seen == [("bad_json", "leon", "noise-001"), ("unknown_device", "leon", None)]
    other = await http.get("/ciudad/v1/dead-letters", headers=bearer(keys.ponferrada_admin))
    assert other.json() == []
