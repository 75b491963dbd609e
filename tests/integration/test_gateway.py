"""The gateway against a real mosquitto and PostgreSQL: storage, dead letters, redelivery."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import (
    Backoff,
    Batch,
    BatchSink,
    Gateway,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
)
from capture import encode_measures, format_time, measure_topic
from knowledge import PostgresStore, TimeRange
from support import StoreUnavailableError
from support.mosquitto import MosquittoBroker
from tests.conftest import APIKEY
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
NOISE_ID = "urn:ngsi-ld:NoiseLevelObserved:leon:noise-001"


def publish(broker: MosquittoBroker, messages: list[tuple[str, bytes]]) -> None:
    """Publishes QoS 1 messages and waits until the broker acknowledged each."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def noise_message(level: float, seconds_ago: float = 10.0) -> tuple[str, bytes]:
    stamp = format_time(datetime.now(UTC).timestamp() - seconds_ago)
    return measure_topic(APIKEY, "noise-001"), encode_measures({"t": stamp, "laeq": level})


@asynccontextmanager
async def running_gateway(
    broker: MosquittoBroker, pipeline: MeasurePipeline, sink: BatchSink, client_id: str
) -> AsyncIterator[Gateway]:
    source = MqttSource(MqttOptions("127.0.0.1", broker.port, client_id, receive_maximum=50))
    await source.start()
    gateway = Gateway(
        source,
        pipeline,
        sink,
        max_messages=50,
        max_wait_s=0.05,
        backoff=Backoff(base_s=0.01, cap_s=0.05),
    )
    task = asyncio.create_task(gateway.run(), name="gateway-under-test")
    try:
        yield gateway
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        source.stop()


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
    async with running_gateway(mosquitto, pipeline, flaky, f"gw-{uuid.uuid4().hex[:8]}") as gw:
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
    async with running_gateway(mosquitto, pipeline, stuck, client_id):
        publish(mosquitto, [noise_message(40.0 + n, 60 - n) for n in range(4)])

        async def received() -> bool:
            return stuck.attempts > 0

        await wait_until(received)
    # Same client id, persistent session: the broker redelivers what was never acknowledged.
    async with running_gateway(mosquitto, pipeline, store, client_id):

        async def all_four() -> bool:
            return await stored_levels(store) == [40.0, 41.0, 42.0, 43.0]

        await wait_until(all_four)
