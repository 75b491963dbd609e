"""Store-and-forward: PostgreSQL stopped for 30 s under load, nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import (
    Backoff,
    Batch,
    Gateway,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
    Spool,
    UnstagedSink,
)
from capture import encode_measures, format_time, measure_topic
from ciudad.database import open_store_at
from knowledge import PostgresStore, TimeRange
from support import StoreUnavailableError
from support.mosquitto import MosquittoBroker
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.postgres import PrivatePostgres
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SENSORS = [f"noise-00{n}" for n in range(1, 7)]


def publish_steadily(port: int, count: int, per_second: float, done: threading.Event) -> None:
    """QoS 1 readings at a steady rate, one sensor after another, each with its own time."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"load-{uuid.uuid4().hex[:6]}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = datetime.now(UTC).timestamp()
    try:
        for n in range(count):
            stamp = format_time(start - 3000 + n * 0.5)
            body = encode_measures({"t": stamp, "laeq": 40.0 + n % 40})
            client.publish(measure_topic(APIKEY, SENSORS[n % 6]), body, qos=1).wait_for_publish(5)
            done.wait(1 / per_second)
    finally:
        client.disconnect()
        client.loop_stop()
        done.set()


async def stored_count(store: PostgresStore) -> int:
    total = 0
    for sensor in SENSORS:
        try:
            history = await store.history(
                TENANT, f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:{sensor}", ["LAeq"], TimeRange()
            )
        except Exception:
            return -1
        total += sum(len(h.values) for h in history)
    return total


async def test_thirty_second_database_outage_under_load(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    private_postgres: PrivatePostgres,
    tmp_path: Path,
) -> None:
    readings = 2400  # 60/s for 40 s
    store = await open_store_at(private_postgres.uri, max_size=2, timeout_s=2)
    spool = Spool(tmp_path / "spool", max_bytes=64 * 1024 * 1024)
    source = MqttSource(MqttOptions("127.0.0.1", mosquitto.port, f"gw-{uuid.uuid4().hex[:6]}"))
    await source.start()
    gateway = Gateway(
        source,
        pipeline,
        store,
        max_messages=200,
        max_wait_s=0.1,
        backoff=Backoff(0.2, 2.0),
        spool=spool,
        drain_every_s=0.5,
    )
    task = asyncio.create_task(gateway.run())
    done = threading.Event()
    load = asyncio.create_task(
        asyncio.to_thread(publish_steadily, mosquitto.port, readings, 60.0, done)
    )
    try:
        await asyncio.sleep(5)
        await asyncio.to_thread(private_postgres.stop)
        await asyncio.sleep(30)
        spooled_during_outage = gateway.stats.spooled
        await asyncio.to_thread(private_postgres.start)
        await load

        async def all_stored() -> bool:
            return await stored_count(store) == readings

        await wait_until(all_stored)
    finally:
        done.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        source.stop()
        await store.close()
    assert spooled_during_outage > 0, gateway.stats.snapshot()
    assert gateway.stats.replayed == gateway.stats.spooled
    assert len(spool) == 0
    assert gateway.stats.measure_messages == readings  # each accepted once: no redelivery


class DownStore:
    """The real store behind a switch: while ``down`` every write fails."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.down = True

    async def write_batch(self, batch: Batch) -> None:
        if self.down:
            raise StoreUnavailableError("switched off")
        await self.store.write_batch(batch)


async def test_a_full_spool_holds_acknowledgements_instead_of_dropping(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=3000)  # room for a couple of small batches
    switch = DownStore(store)
    source = MqttSource(
        MqttOptions("127.0.0.1", mosquitto.port, f"gw-{uuid.uuid4().hex[:6]}", receive_maximum=10)
    )
    await source.start()
    gateway = Gateway(
        source,
        pipeline,
        UnstagedSink(switch),
        max_messages=5,
        max_wait_s=0.05,
        backoff=Backoff(0.05, 0.2),
        spool=spool,
        drain_every_s=0.1,
    )
    task = asyncio.create_task(gateway.run())
    done = threading.Event()
    try:
        await asyncio.to_thread(publish_steadily, mosquitto.port, 60, 500.0, done)

        async def spool_full() -> bool:
            return gateway.stats.spool_full > 0

        await wait_until(spool_full)
        await asyncio.sleep(0.5)
        held = 60 - gateway.stats.measure_messages
        assert held > 0  # not acknowledged: still the broker's
        switch.down = False

        async def everything() -> bool:
            return await stored_count(store) == 60

        await wait_until(everything)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        source.stop()
    assert len(spool) == 0
