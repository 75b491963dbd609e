"""Two gateway workers share one subscription: every reading is stored exactly once."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest

from acquisition import Backoff, Gateway, MeasurePipeline, MqttOptions, MqttSource
from capture import encode_measures, format_time, measure_topic
from knowledge import PostgresStore, TimeRange
from support.mosquitto import MosquittoBroker
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.gateway import publish
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.integration
READINGS = 400


async def test_two_workers_split_the_load_without_duplicates(
    mosquitto: MosquittoBroker, pipeline: MeasurePipeline, store: PostgresStore
) -> None:
    group = f"g{uuid.uuid4().hex[:6]}"
    workers: list[Gateway] = []
    async with AsyncExitStack() as stack:
        tasks = []
        for n in range(2):
            source = MqttSource(
                MqttOptions(
                    "127.0.0.1",
                    mosquitto.port,
                    f"{group}-w{n}",
                    share_group=group,
                    receive_maximum=20,
                )
            )
            await source.start()
            stack.callback(source.stop)
            gateway = Gateway(
                source,
                pipeline,
                store,
                max_messages=20,
                max_wait_s=0.02,
                backoff=Backoff(0.01, 0.05),
            )
            workers.append(gateway)
            tasks.append(asyncio.create_task(gateway.run(), name=f"worker-{n}"))
        now = datetime.now(UTC).timestamp()
        messages = [
            (
                measure_topic(APIKEY, f"noise-00{1 + n % 6}"),
                encode_measures({"t": format_time(now - 600 + n), "laeq": 40.0 + n % 30}),
            )
            for n in range(READINGS)
        ]
        await asyncio.to_thread(publish, mosquitto, messages)

        async def all_received() -> bool:
            return sum(w.stats.measure_messages for w in workers) >= READINGS

        await wait_until(all_received)
        await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive now
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    per_worker = [w.stats.measure_messages for w in workers]
    assert sum(per_worker) == READINGS, per_worker
    assert min(per_worker) > READINGS // 5, per_worker  # both really worked
    stored = 0
    for sensor in range(1, 7):
        entity_id = f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:noise-00{sensor}"
        (history,) = await store.history(TENANT, entity_id, ["LAeq"], TimeRange())
        stored += len(history.times)
    assert stored == READINGS
