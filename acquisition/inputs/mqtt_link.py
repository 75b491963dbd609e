"""One TCP connection to an MQTT broker, as an asyncio protocol.

Each socket read is parsed whole; its PUBLISH packets become one list of messages
handed to the owner in one call, stamped with one reception time (they arrived
together). Keepalive: a PINGREQ when we have sent nothing for half the interval; a
broker silent for one and a half intervals is taken for gone and the connection is
dropped, which makes the owner reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from acquisition.inputs import mqtt_packets as wire
from acquisition.inputs.inbound import InboundMessage

log = logging.getLogger(__name__)
_HANDSHAKE_TIMEOUT_S = 10.0


class LinkEvents(Protocol):
    def room(self) -> int:
        """How many more messages the owner's queue takes now."""
        ...

    def on_messages(self, messages: list[InboundMessage]) -> None: ...

    def on_puback(self, packet_id: int) -> None: ...

    def on_lost(self, reason: str) -> None: ...


class Link(asyncio.Protocol):
    def __init__(self, owner: LinkEvents, version: int, generation: int) -> None:
        self._owner = owner
        self._version = version
        self._generation = generation
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._connack: asyncio.Future[wire.Packet] = loop.create_future()
        self._suback: asyncio.Future[wire.Packet] = loop.create_future()
        self._paused = False
        self._last_sent = self._last_heard = loop.time()
        self._pinger: asyncio.Task[None] | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._last_heard = asyncio.get_running_loop().time()
        self._buffer += data
        self._parse()

    def _parse(self) -> None:
        """Parses what the owner's queue has room for; the rest of the bytes wait here, with
        reading paused, so the queue never passes its mark (one socket read is the most
        that is held beyond it, as bytes)."""
        room = self._owner.room()
        try:
            packets = wire.split_packets(self._buffer, max(room, 0))
            self._dispatch(packets)
        except wire.ProtocolError as exc:
            log.error("MQTT protocol error; dropping the connection", extra={"error": str(exc)})
            self.close()
            return
        if self._buffer and len(packets) >= room:
            self.pause()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
        reason = str(exc) if exc else "closed"
        for waiter in (self._connack, self._suback):
            if not waiter.done():
                waiter.set_exception(ConnectionError(f"connection lost: {reason}"))
        if not self.closed.done():
            self.closed.set_result(None)
            self._owner.on_lost(reason)

    def _dispatch(self, packets: list[wire.Packet]) -> None:
        messages: list[InboundMessage] = []
        received_at: datetime | None = None
        for packet in packets:
            if packet.kind == wire.PUBLISH:
                received_at = received_at or datetime.now(UTC)
                p = wire.parse_publish(packet, self._version)
                messages.append(
                    InboundMessage(
                        p.topic, p.payload, p.packet_id, p.qos, received_at, self._generation
                    )
                )
            elif packet.kind == wire.PUBACK:
                self._owner.on_puback(wire.parse_packet_id(packet))
            elif packet.kind == wire.CONNACK and not self._connack.done():
                self._connack.set_result(packet)
            elif packet.kind == (wire.SUBACK & 0xF0) and not self._suback.done():
                self._suback.set_result(packet)
            elif packet.kind == wire.DISCONNECT:
                log.warning("MQTT broker disconnected us", extra={"reason": packet.body[:1].hex()})
        if messages:
            self._owner.on_messages(messages)

    # used by the owner
    def write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)
            self._last_sent = asyncio.get_running_loop().time()

    def set_option(self, level: int, option: int) -> None:
        sock: Any = self._transport.get_extra_info("socket") if self._transport else None
        if sock is not None:
            sock.setsockopt(level, option, 1)

    async def handshake(self, request: wire.ConnectRequest) -> bool:
        """CONNECT and its CONNACK; returns whether the broker kept our session."""
        self.write(wire.connect_packet(request))
        packet = await asyncio.wait_for(self._connack, _HANDSHAKE_TIMEOUT_S)
        session_present, code = wire.parse_connack(packet)
        if code != 0:
            log.error("MQTT connect refused", extra={"reason": code})
            self.close()
            raise ConnectionRefusedError(f"CONNACK reason {code:#04x}")
        if request.keepalive_s:
            self._pinger = asyncio.create_task(self._keep_alive(request.keepalive_s))
        return session_present

    async def subscribe(self, filters: Sequence[str]) -> list[int]:
        """Subscribes at QoS 1; returns the refusal codes (empty when all were granted)."""
        self.write(wire.subscribe_packet(1, filters, 1, self._version))
        packet = await asyncio.wait_for(self._suback, _HANDSHAKE_TIMEOUT_S)
        _, codes = wire.parse_suback(packet, self._version)
        return [code for code in codes if code >= 0x80]

    async def _keep_alive(self, keepalive_s: int) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(keepalive_s / 4)
            now = loop.time()
            # While paused we are not reading: silence then says nothing of the broker.
            if not self._paused and now - self._last_heard > keepalive_s * 1.5:
                log.warning("MQTT broker silent past keepalive; reconnecting")
                self.close()
                return
            if now - self._last_sent >= keepalive_s / 2:
                self.write(wire.PINGREQ_PACKET)

    def pause(self) -> None:
        if self._transport is not None and not self._paused:
            self._paused = True
            self._transport.pause_reading()

    def resume(self) -> None:
        if self._transport is not None and self._paused:
            self._paused = False
            self._last_heard = asyncio.get_running_loop().time()
            self._transport.resume_reading()
            self._parse()  # what arrived before the pause

    def close(self, farewell: bytes = b"") -> None:
        if self._transport is not None and not self._transport.is_closing():
            if farewell:
                self._transport.write(farewell)
            self._transport.close()
