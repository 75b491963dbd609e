"""A gateway running in-process against a test broker, and messages to publish to it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import (
    Backoff,
    BatchSink,
    Gateway,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
)
from capture import encode_measures, format_time, measure_topic
from support.mosquitto import MosquittoBroker
from tests.helpers.fleet import APIKEY


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
    broker: MosquittoBroker, pipeline: MeasurePipeline, sink: BatchSink[Any], client_id: str
) -> AsyncIterator[Gateway[Any]]:
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
