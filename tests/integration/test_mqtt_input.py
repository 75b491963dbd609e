"""The gateway's MQTT input against a real mosquitto: at-least-once delivery, acks after
commit, MQTT 3.1.1 mode, commands resent across reconnects, a bounded queue."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest

from acquisition import MqttOptions, MqttSource
from support.mosquitto import MosquittoBroker
from tests.helpers.gateway import publish

pytestmark = pytest.mark.integration
# The broker is shared by the session's tests: each test listens on its own apikey only.
APIKEY = f"k{uuid.uuid4().hex[:6]}"
TOPIC = f"/json/{APIKEY}/dev-1/attrs"


def _options(broker: MosquittoBroker, client_id: str, version: int) -> MqttOptions:
    return MqttOptions(
        "127.0.0.1",
        broker.port,
        client_id,
        protocol_version=version,
        filters=(f"/json/{APIKEY}/+/attrs",),
    )


async def _receive(source: MqttSource, count: int) -> list[bytes]:
    got: list[bytes] = []
    while len(got) < count:
        batch = await asyncio.wait_for(source.next_batch(count - len(got), 0.05), 20)
        got += [m.payload for m in batch]
    return got


@pytest.mark.parametrize("version", [5, 4])
async def test_what_was_not_acknowledged_comes_again_and_what_was_does_not(
    mosquitto: MosquittoBroker, version: int
) -> None:
    client_id = f"gw-{uuid.uuid4().hex[:6]}"
    first = MqttSource(_options(mosquitto, client_id, version))
    await first.start()
    sent = [f"m{n}".encode() for n in range(50)]
    await asyncio.to_thread(publish, mosquitto, [(TOPIC, p) for p in sent])
    assert sorted(await _receive(first, 50)) == sorted(sent)
    first.stop()  # a crash before the commit: nothing acknowledged

    second = MqttSource(_options(mosquitto, client_id, version))
    await second.start()
    batch = []
    while len(batch) < 50:
        batch += await asyncio.wait_for(second.next_batch(50 - len(batch), 0.05), 20)
    assert sorted(m.payload for m in batch) == sorted(sent)  # redelivered, all of it
    second.ack(batch)
    await asyncio.to_thread(publish, mosquitto, [(TOPIC, b"marker")])
    assert await _receive(second, 1) == [b"marker"]
    second.stop()

    third = MqttSource(_options(mosquitto, client_id, version))
    await third.start()
    await asyncio.to_thread(publish, mosquitto, [(TOPIC, b"after")])
    # The acknowledged 50 stay gone; only the marker (never acknowledged) and the new one.
    assert sorted(await _receive(third, 2)) == [b"after", b"marker"]
    third.stop()


async def test_a_command_published_while_the_broker_is_down_arrives_after_it_returns(
    mosquitto: MosquittoBroker,
) -> None:
    options = _options(mosquitto, f"dev-{uuid.uuid4().hex[:6]}", 5)
    device = MqttSource(replace(options, filters=(f"/{APIKEY}/dev-1/cmd",)))
    gateway = MqttSource(_options(mosquitto, f"gw-{uuid.uuid4().hex[:6]}", 5))
    await device.start()
    await gateway.start()
    mosquitto.stop()
    while gateway.connected:
        await asyncio.sleep(0.01)
    gateway.publish(f"/{APIKEY}/dev-1/cmd", b'{"dim": 40}', 1)
    mosquitto.start()
    assert await _receive(device, 1) == [b'{"dim": 40}']
    device.stop()
    gateway.stop()


async def test_the_queue_stays_bounded_when_the_broker_sends_faster_than_we_take(
    mosquitto: MosquittoBroker,
) -> None:
    # MQTT 3.1.1 has no Receive Maximum: only our high-water mark holds the broker back.
    source = MqttSource(_options(mosquitto, f"gw-{uuid.uuid4().hex[:6]}", 4))
    await source.start()
    sent = [f"{n:05d}".encode() for n in range(9000)]
    await asyncio.to_thread(publish, mosquitto, [(TOPIC, p) for p in sent])
    got = []
    while len(got) < len(sent):
        batch = await asyncio.wait_for(source.next_batch(500, 0.05), 20)
        source.ack(batch)
        got += [m.payload for m in batch]
    assert sorted(got) == sent
    assert source.peak_queue_depth == 4000  # reading paused at the mark
    source.stop()
