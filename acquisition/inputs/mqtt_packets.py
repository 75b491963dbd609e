"""MQTT 5 and 3.1.1 packets, as far as the gateway speaks them: pure encoding and parsing.

The gateway reads tens of thousands of PUBLISH packets a second, so parsing works on a
whole socket read at once (:func:`split_packets`) and does only what a subscriber at
QoS 1 needs: topic, packet id, payload. Properties of incoming PUBLISH packets are
skipped: we never announce a Topic Alias Maximum, so the broker sends no aliases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CONNECT, CONNACK, PUBLISH, PUBACK = 0x10, 0x20, 0x30, 0x40
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 0x82, 0x90, 0xC0, 0xD0, 0xE0
MQTT_5, MQTT_311 = 5, 4
MAX_PACKET_BYTES = 1 << 20  # beyond the broker's message_size_limit: a broken stream

_PROP_SESSION_EXPIRY = 0x11
_PROP_RECEIVE_MAXIMUM = 0x21
PINGREQ_PACKET = bytes((PINGREQ, 0))
DISCONNECT_PACKET = bytes((DISCONNECT, 0))


class ProtocolError(Exception):
    """The byte stream is not MQTT we can follow; the connection must be dropped."""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


def _packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + _varint(len(body)) + body


@dataclass(frozen=True, slots=True)
class ConnectRequest:
    client_id: str
    keepalive_s: int
    version: int = MQTT_5
    username: str | None = None
    password: str | None = None
    session_expiry_s: int = 0
    receive_maximum: int = 65535


def connect_packet(req: ConnectRequest) -> bytes:
    """CONNECT keeping the session: clean start off (5), clean session off (3.1.1)."""
    flags = (0x80 if req.username else 0) | (0x40 if req.password else 0)
    body = _string("MQTT") + bytes((req.version, flags)) + req.keepalive_s.to_bytes(2, "big")
    if req.version == MQTT_5:
        props = (
            bytes((_PROP_SESSION_EXPIRY,))
            + req.session_expiry_s.to_bytes(4, "big")
            + bytes((_PROP_RECEIVE_MAXIMUM,))
            + req.receive_maximum.to_bytes(2, "big")
        )
        body += _varint(len(props)) + props
    body += _string(req.client_id)
    if req.username:
        body += _string(req.username)
    if req.password:
        body += _string(req.password)
    return _packet(CONNECT, body)


def subscribe_packet(packet_id: int, filters: Sequence[str], qos: int, version: int) -> bytes:
    body = packet_id.to_bytes(2, "big") + (b"\x00" if version == MQTT_5 else b"")
    for topic_filter in filters:
        body += _string(topic_filter) + bytes((qos,))
    return _packet(SUBSCRIBE, body)


def publish_packet(
    topic: str, payload: bytes, qos: int, packet_id: int = 0, version: int = MQTT_5
) -> bytes:
    body = _string(topic) + (packet_id.to_bytes(2, "big") if qos else b"")
    if version == MQTT_5:
        body += b"\x00"  # no properties
    return _packet(PUBLISH | (qos << 1), body + payload)


def mark_duplicate(packet: bytes) -> bytes:
    """The same PUBLISH with its DUP flag set, for a resend after reconnecting."""
    return bytes((packet[0] | 0x08,)) + packet[1:]


def pubacks(packet_ids: Sequence[int]) -> bytes:
    """PUBACKs for many messages in one write (reason Success is implied by length 2)."""
    return b"".join(b"\x40\x02" + pid.to_bytes(2, "big") for pid in packet_ids)


@dataclass(frozen=True, slots=True)
class Packet:
    kind: int  # the first byte's high nibble, e.g. PUBLISH
    flags: int  # the first byte's low nibble
    body: bytes


def split_packets(buffer: bytearray, limit: int | None = None) -> list[Packet]:
    """Removes complete packets (at most ``limit``) from the front of ``buffer``."""
    packets: list[Packet] = []
    pos, end = 0, len(buffer)
    while pos + 2 <= end and (limit is None or len(packets) < limit):
        first = buffer[pos]
        length, shift, cursor = 0, 0, pos + 1
        while True:
            if cursor >= end:
                del buffer[:pos]
                return packets
            byte = buffer[cursor]
            length |= (byte & 0x7F) << shift
            cursor += 1
            if not byte & 0x80:
                break
            shift += 7
            if shift > 21:
                raise ProtocolError("remaining length over four bytes")
        if length > MAX_PACKET_BYTES:
            raise ProtocolError(f"packet of {length} bytes")
        if cursor + length > end:
            break
        packets.append(Packet(first & 0xF0, first & 0x0F, bytes(buffer[cursor : cursor + length])))
        pos = cursor + length
    del buffer[:pos]
    return packets


def _skip_properties(body: bytes, pos: int) -> int:
    length, shift = 0, 0
    while True:
        byte = body[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return pos + length
        shift += 7


@dataclass(frozen=True, slots=True)
class Publish:
    topic: str
    payload: bytes
    qos: int
    packet_id: int


def parse_publish(packet: Packet, version: int) -> Publish:
    body = packet.body
    try:
        size = int.from_bytes(body[0:2], "big")
        topic = body[2 : 2 + size].decode()
        pos = 2 + size
        qos = (packet.flags >> 1) & 0x03
        packet_id = 0
        if qos:
            packet_id = int.from_bytes(body[pos : pos + 2], "big")
            pos += 2
        if version == MQTT_5:
            pos = _skip_properties(body, pos)
    except (IndexError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed PUBLISH: {exc}") from exc
    return Publish(topic, body[pos:], qos, packet_id)


def parse_connack(packet: Packet) -> tuple[bool, int]:
    """Session present, and the reason (5) or return (3.1.1) code: 0 is success."""
    if len(packet.body) < 2:
        raise ProtocolError("short CONNACK")
    return bool(packet.body[0] & 0x01), packet.body[1]


def parse_suback(packet: Packet, version: int) -> tuple[int, list[int]]:
    """The packet id and one reason code per filter (0x80 and up: refused)."""
    body = packet.body
    pos = _skip_properties(body, 2) if version == MQTT_5 else 2
    return int.from_bytes(body[0:2], "big"), list(body[pos:])


def parse_packet_id(packet: Packet) -> int:
    return int.from_bytes(packet.body[0:2], "big")
