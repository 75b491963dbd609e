"""The gateway's MQTT codec: packets survive any split of the byte stream."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acquisition.inputs import mqtt_packets as wire

TOPICS = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60
)


def _as_received(packet: bytes, version: int) -> wire.Publish:
    packets = wire.split_packets(bytearray(packet))
    assert len(packets) == 1
    return wire.parse_publish(packets[0], version)


@given(
    topic=TOPICS,
    payload=st.binary(max_size=400),
    qos=st.sampled_from([0, 1]),
    packet_id=st.integers(1, 65535),
    version=st.sampled_from([wire.MQTT_5, wire.MQTT_311]),
)
def test_a_publish_reads_back_as_written(
    topic: str, payload: bytes, qos: int, packet_id: int, version: int
) -> None:
    got = _as_received(wire.publish_packet(topic, payload, qos, packet_id, version), version)
    assert (got.topic, got.payload, got.qos) == (topic, payload, qos)
    assert got.packet_id == (packet_id if qos else 0)


@given(
    payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 10_000), max_size=20),
)
def test_packets_split_anywhere_in_the_stream_come_out_whole_and_in_order(
    payloads: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(
        wire.publish_packet("/json/k/d/attrs", p, 1, n + 1) for n, p in enumerate(payloads)
    )
    edges = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    buffer, got = bytearray(), []
    for start, end in itertools.pairwise(edges):
        buffer += stream[start:end]
        got += [wire.parse_publish(p, wire.MQTT_5).payload for p in wire.split_packets(buffer)]
    assert got == payloads
    assert buffer == bytearray()


def test_a_large_payload_needs_a_multi_byte_length() -> None:
    payload = bytes(range(256)) * 1000  # 256,000 bytes: a three-byte remaining length
    assert _as_received(wire.publish_packet("t", payload, 1, 7), wire.MQTT_5).payload == payload


def test_acknowledgements_of_a_batch_are_one_write_of_four_bytes_each() -> None:
    acks = wire.pubacks([1, 258, 65535])
    assert acks == b"\x40\x02\x00\x01\x40\x02\x01\x02\x40\x02\xff\xff"


def test_a_broken_stream_is_refused_rather_than_buffered_forever() -> None:
    with pytest.raises(wire.ProtocolError):
        wire.split_packets(bytearray(b"\x30\xff\xff\xff\xff\x01"))  # five length bytes
    too_big = wire.MAX_PACKET_BYTES + 1
    header = bytearray(b"\x30")
    while True:
        byte, too_big = too_big % 128, too_big // 128
        header.append(byte | (0x80 if too_big else 0))
        if not too_big:
            break
    with pytest.raises(wire.ProtocolError):
        wire.split_packets(header)


def test_connect_asks_to_keep_the_session_and_bounds_what_the_broker_sends() -> None:
    packet = wire.connect_packet(
        wire.ConnectRequest("gw", 30, wire.MQTT_5, "user", "pw", 3600, 500)
    )
    body = wire.split_packets(bytearray(packet))[0].body
    assert body[:7] == b"\x00\x04MQTT\x05"
    assert body[7] == 0xC0  # user name and password; clean start off
    assert b"\x11\x00\x00\x0e\x10" in body  # session expiry 3600 s
    assert b"\x21\x01\xf4" in body  # receive maximum 500
