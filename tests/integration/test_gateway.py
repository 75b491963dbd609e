"""The gateway against a real mosquitto and PostgreSQL: storage, dead letters, redelivery."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from acquisition import (
    Batch,
    MeasurePipeline,
    UnstagedSink,
)
from capture import measure_topic
from knowledge import PostgresStore, TimeRange
from support import StoreUnavailableError
from support.mosquitto import MosquittoBroker
from tests.helpers.fleet import APIKEY
from tests.helpers.gateway import noise_message, publish, running_gateway
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.integration
NOISE_ID = "urn:ngsi-ld:NoiseLevelObserved:leon:noise-001"


async def stored_levels(store: PostgresStore) -> list[float]:
    try:
        history = await store.history("leon", NOISE_ID, ["LAeq"], TimeRange())
    except Exception:
        return []
    return sorted(float(v) for h in history for v in h.values)


async def test_valid_readings_are_stored_and_garbage_is_dead_lettered(
    mosquitto: MosquittoBroker, pipeline: MeasurePipeline, store: PostgresStore
) -> None:
    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}") as gw:
        publish(
            mosquitto,
            [
                noise_message(50.0, 30),
                (measure_topic(APIKEY, "noise-001"), b"{truncated"),
                (measure_topic(APIKEY, "intruder"), b'{"t": "2026-01-01T00:00:00Z"}'),
                noise_message(51.0, 20),  # still accepted after the bad ones
            ],
        )

        async def two_levels_and_two_letters() -> bool:
            return (
                await stored_levels(store) == [50.0, 51.0]
                and len(await store.dead_letters(None, 10)) == 2
            )

        await wait_until(two_levels_and_two_letters)
        reasons = sorted(d.reason for d in await store.dead_letters(None, 10))
        assert reasons == ["bad_json", "unknown_device"]
        assert gw.stats.dead_letters == {"bad_json": 1, "unknown_device": 1}


class FlakyStore:
    """The real store behind a link that fails the first ``failures`` writes."""

    def __init__(self, store: PostgresStore, failures: int) -> None:
        self.store = store
        self.failures = failures

    async def write_batch(self, batch: Batch) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise StoreUnavailableError("simulated outage")
        await self.store.write_batch(batch)


async def test_store_outage_is_retried_without_losing_readings(
    mosquitto: MosquittoBroker, pipeline: MeasurePipeline, store: PostgresStore
) -> None:
    flaky = FlakyStore(store, failures=3)
    sink = UnstagedSink(flaky)
    async with running_gateway(mosquitto, pipeline, sink, f"gw-{uuid.uuid4().hex[:8]}") as gw:
        publish(mosquitto, [noise_message(60.0 + n, 60 - n) for n in range(5)])

        async def all_five() -> bool:
            return await stored_levels(store) == [60.0, 61.0, 62.0, 63.0, 64.0]

        await wait_until(all_five)
        assert gw.stats.write_retries == 3


class StuckStore:
    """A store that never finishes a write: the gateway receives but can never commit."""

    def __init__(self) -> None:
        self.attempts = 0

    async def write_batch(self, batch: Batch) -> None:
        self.attempts += 1
        await asyncio.Event().wait()


async def test_unacknowledged_messages_are_redelivered_after_a_gateway_dies(
    mosquitto: MosquittoBroker, pipeline: MeasurePipeline, store: PostgresStore
) -> None:
    client_id = f"gw-{uuid.uuid4().hex[:8]}"
    stuck = StuckStore()
    async with running_gateway(mosquitto, pipeline, UnstagedSink(stuck), client_id):
        publish(mosquitto, [noise_message(40.0 + n, 60 - n) for n in range(4)])

        async def received() -> bool:
            return stuck.attempts > 0

        await wait_until(received)
    # Same client id, persistent session: the broker redelivers what was never acknowledged.
    async with running_gateway(mosquitto, pipeline, store, client_id):

        async def all_four() -> bool:
            return await stored_levels(store) == [40.0, 41.0, 42.0, 43.0]

        await wait_until(all_four)
