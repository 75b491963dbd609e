"""A fleet's devices publishing at a fixed total rate, in a process of its own.

Speaks MQTT 5 through the gateway's own packet codec on a raw asyncio connection
(a paho publisher tops out near the rates we offer). Each 10 ms tick sends that
tick's share of messages in one write, QoS 1; the broker's PUBACKs are counted
as sent. Each measure is stamped with its publish time, so publish-to-queryable
latency is (when the API shows it) - (its observedAt).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized

from acquisition.inputs import mqtt_packets as wire
from capture import DeviceSpec, ReadingGenerator, encode_measures, measure_topic

TICK_S = 0.01


@dataclass(frozen=True, slots=True)
class Offer:
    port: int
    rate_per_s: float
    seconds: float
    start_at: float  # time.time() at which every publisher begins


class _Acks(asyncio.Protocol):
    def __init__(self, acked: Synchronized[int]) -> None:
        self._buffer = bytearray()
        self._acked = acked
        self.mine = 0  # this publisher's own acknowledgements (the shared count is everyone's)
        self.connack: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        acks = 0
        for packet in wire.split_packets(self._buffer):
            if packet.kind == wire.PUBACK:
                acks += 1
            elif packet.kind == wire.CONNACK and not self.connack.done():
                self.connack.set_result(True)
        if acks:
            self.mine += acks
            with self._acked.get_lock():
                self._acked.value += acks


async def _publish(
    devices: Sequence[DeviceSpec], offer: Offer, client_id: str, acked: Synchronized[int]
) -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(
        lambda: _Acks(acked), "127.0.0.1", offer.port
    )
    transport.write(wire.connect_packet(wire.ConnectRequest(client_id, 60)))
    await asyncio.wait_for(protocol.connack, 10)
    gens = [ReadingGenerator(d) for d in devices]
    topics = [measure_topic(d.apikey, d.device_id) for d in devices]
    await asyncio.sleep(max(0.0, offer.start_at - time.time()))
    started, sent, packet_id, n = time.time(), 0, 0, 0
    total = int(offer.rate_per_s * offer.seconds)
    while sent < total:
        due = min(total, int((time.time() - started) * offer.rate_per_s) + 1)
        chunk = []
        now = time.time()
        for _ in range(due - sent):
            i = n % len(gens)
            packet_id = packet_id % 65535 + 1
            payload = encode_measures(gens[i].measure(now))
            chunk.append(wire.publish_packet(topics[i], payload, 1, packet_id))
            n += 1
        sent = due
        transport.write(b"".join(chunk))
        await asyncio.sleep(TICK_S)
    while protocol.mine < total:  # noqa: ASYNC110 - counted by the connection's protocol
        await asyncio.sleep(0.01)
    transport.write(wire.DISCONNECT_PACKET)
    transport.close()


def publish_fleet(
    devices: Sequence[DeviceSpec], offer: Offer, client_id: str, acked: Synchronized[int]
) -> None:
    """Entry point of a publisher process."""
    asyncio.run(_publish(devices, offer, client_id, acked))
