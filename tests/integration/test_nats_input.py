"""The gateway's NATS input on a three-node JetStream cluster: devices publish MQTT QoS 1
to any node, gateways read one durable consumer, every reading is stored once."""

from __future__ import annotations

import asyncio
import uuid

import nats
import pytest

from acquisition import (
    Gateway,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
    NatsOptions,
    NatsSource,
)
from acquisition.inputs.nats import MQTT_STREAM
from knowledge import PostgresStore
from support.nats import NatsCluster
from tests.helpers.fleet import APIKEY
from tests.helpers.nats_fleet import (
    FailoverPublisher,
    chunks,
    nats_gateway,
    readings,
    stored,
)
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def publish_to_every_node(cluster: NatsCluster, count: int) -> int:
    """``count`` readings, a third to each node, from three devices; returns how many
    the nodes acknowledged."""
    messages = readings(count, apikey=APIKEY)
    publishers = [FailoverPublisher(cluster.mqtt_ports, node) for node in range(3)]
    try:
        for publisher, part in zip(publishers, chunks(messages, 3), strict=True):
            publisher.publish(part)
    finally:
        for publisher in publishers:
            publisher.close()
    return sum(p.acknowledged for p in publishers)


@pytest.mark.parametrize("stream", ["$MQTT_msgs", "CIUDAD_DEVICES"])
async def test_readings_published_to_any_node_are_stored_once(
    nats_cluster: NatsCluster,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    database_url: str,
    stream: str,
) -> None:
    async with nats_gateway(nats_cluster, pipeline, store, stream) as gateway:
        acknowledged = await asyncio.to_thread(publish_to_every_node, nats_cluster, 600)

        async def all_stored() -> bool:
            return (await asyncio.to_thread(stored, database_url))[0] >= 600

        await wait_until(all_stored)
        assert gateway.stats.dead_letters.total() == 0, gateway.stats.snapshot()
    assert acknowledged == 600
    assert await asyncio.to_thread(stored, database_url) == (600, 600)


async def test_mqtt_input_speaks_311_to_the_nats_mqtt_listener(
    nats_cluster: NatsCluster, pipeline: MeasurePipeline, store: PostgresStore, database_url: str
) -> None:
    """The MQTT input in 3.1.1 mode against a node: readings published to another node
    reach it, and its acknowledgements let NATS forget them."""
    source = MqttSource(
        MqttOptions(
            "127.0.0.1",
            nats_cluster.mqtt_ports[0],
            f"gw-{uuid.uuid4().hex[:6]}",
            receive_maximum=100,
            protocol_version=4,
        )
    )
    await source.start()
    gateway = Gateway(source, pipeline, store, max_messages=100, max_wait_s=0.05)
    task = asyncio.create_task(gateway.run(), name="mqtt311-gateway")
    try:
        publisher = FailoverPublisher(nats_cluster.mqtt_ports, 2)
        try:
            await asyncio.to_thread(publisher.publish, readings(200, apikey=APIKEY))
        finally:
            publisher.close()

        async def all_stored() -> bool:
            return (await asyncio.to_thread(stored, database_url))[0] >= 200

        await wait_until(all_stored)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        source.stop()
    assert await asyncio.to_thread(stored, database_url) == (200, 200)


async def test_a_message_held_past_ack_wait_is_kept_once_and_acked_once(
    nats_cluster: NatsCluster,
) -> None:
    """The store is slow past ack_wait: the redelivered copy is not queued twice, and the
    gateway's one ack (through the newest delivery) settles the message on the server."""
    consumer = f"gw-{uuid.uuid4().hex[:6]}"
    source = NatsSource(NatsOptions(tuple(nats_cluster.nats_urls), consumer=consumer, ack_wait_s=2))
    await source.start()
    client = await nats.connect(nats_cluster.nats_urls)
    js = client.jetstream()
    try:
        publisher = FailoverPublisher(nats_cluster.mqtt_ports, 1)
        try:
            await asyncio.to_thread(publisher.publish, readings(1, apikey=APIKEY))
        finally:
            publisher.close()
        (first,) = await source.next_batch(10, 0.05)

        async def redelivered() -> bool:
            info = await js.consumer_info(MQTT_STREAM, consumer)
            return int(info.num_redelivered or 0) >= 1

        await wait_until(redelivered)
        with pytest.raises(TimeoutError):  # no second copy for the gateway
            await asyncio.wait_for(source.next_batch(10, 0.05), 1.0)
        source.ack([first])
        await source.close()

        async def settled() -> bool:
            info = await js.consumer_info(MQTT_STREAM, consumer)
            return int(info.num_ack_pending or 0) == 0

        await wait_until(settled)
    finally:
        await source.close()
        await client.close()
