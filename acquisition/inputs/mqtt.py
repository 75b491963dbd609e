"""MQTT input for the gateway: our own asyncio client, made for reading in batches.

No thread and no per-message callback: each socket read is parsed whole
(``mqtt_packets.split_packets``) into messages appended to one queue, and a batch's
acknowledgements go out as one write after the batch is committed, so a crash
between reception and commit makes the broker redeliver (at-least-once; the
store's idempotent writes turn that into exactly-once rows). The MQTT 5 Receive
Maximum caps how many unacknowledged messages the broker sends us, which bounds
the local queue: when the store is slow or down the broker holds the rest
(backpressure) instead of us dropping anything. With MQTT 3.1.1 (The Things
Stack, NATS) the broker's own in-flight limit bounds it, and reading pauses when
the queue is past its high-water mark.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import ssl
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from acquisition.inputs import mqtt_packets as wire
from acquisition.inputs.inbound import InboundMessage, take_batch
from acquisition.inputs.mqtt_link import Link, LinkEvents
from capture import MEASURE_TOPIC_FILTERS
from support import CiudadError, ConfigurationError

__all__ = [
    "GATEWAY_FILTERS",
    "InboundMessage",
    "MqttOptions",
    "MqttSource",
    "subscription_filters",
]
log = logging.getLogger(__name__)
SESSION_EXPIRY_S = 7 * 86400
_RECONNECT_MIN_S, _RECONNECT_MAX_S = 0.5, 30.0


GATEWAY_FILTERS = (*MEASURE_TOPIC_FILTERS, "/json/+/+/status", "/json/+/+/cmdexe")


@dataclass(frozen=True, slots=True)
class MqttOptions:
    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    share_group: str | None = None
    receive_maximum: int = 1000
    filters: tuple[str, ...] = GATEWAY_FILTERS  # a network server's broker: its event topics
    # 5, or 4 for MQTT 3.1.1 (The Things Stack's MQTT server speaks nothing newer); with 3.1.1
    # the session persists (clean session off) but no Receive Maximum bounds the queue.
    protocol_version: int = 5
    # TLS, checking the broker's certificate and host name against ``ca_file`` (None: the
    # system's trusted CAs): for a broker across a network, e.g. a network server's.
    tls: bool = False
    ca_file: Path | None = None


def tls_context(options: MqttOptions) -> ssl.SSLContext | None:
    """The client TLS context of ``options`` (None without TLS); ConfigurationError for a CA
    file that cannot be read."""
    if not options.tls:
        return None
    try:
        return ssl.create_default_context(cafile=options.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot read the MQTT CA file {options.ca_file}: {exc}") from exc


def subscription_filters(
    share_group: str | None, filters: tuple[str, ...] = GATEWAY_FILTERS
) -> list[str]:
    """Measure and status topic filters, as shared subscriptions when a share group is set."""
    if share_group is None:
        return list(filters)
    # "$share/<group>/<filter>"; our filters start with "/" (an empty first level), hence "//".
    return [f"$share/{share_group}/{f}" for f in filters]


class MqttSource(LinkEvents):
    """Connects, (re)subscribes on every connect, and yields messages in batches."""

    def __init__(self, options: MqttOptions) -> None:
        self._options = options
        self._tls = tls_context(options)
        self._queue: deque[InboundMessage] = deque()
        self._arrived = asyncio.Event()
        self._connected = asyncio.Event()
        self._link: Link | None = None
        self._generation = 0
        self._keeper: asyncio.Task[None] | None = None
        self._stopping = False
        self._outgoing: dict[int, bytes] = {}  # our QoS 1 publishes the broker has not acked
        self._next_id = 0
        # At this many queued messages reading pauses (3.1.1 and QoS 0 have no other bound).
        self._high_water = max(4 * options.receive_maximum, 4000)
        self.peak_queue_depth = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self, timeout_s: float = 15.0) -> None:
        opts = self._options
        try:
            await asyncio.wait_for(self._connect(), timeout_s)
        except (OSError, wire.ProtocolError, CiudadError) as exc:
            self.stop()
            raise CiudadError(f"cannot reach MQTT broker {opts.host}:{opts.port}: {exc}") from exc
        except TimeoutError:
            self.stop()
            raise CiudadError(f"MQTT broker {opts.host}:{opts.port} did not accept us") from None
        self._keeper = asyncio.create_task(self._keep_connected(), name="mqtt-reconnect")

    def stop(self) -> None:
        self._stopping = True
        if self._keeper is not None:
            self._keeper.cancel()
        if self._link is not None:
            self._link.close(wire.DISCONNECT_PACKET)

    async def _connect(self) -> None:
        """One connection: TCP, CONNECT/CONNACK, SUBSCRIBE/SUBACK; resends what is unacked."""
        opts = self._options
        loop = asyncio.get_running_loop()
        self._generation += 1
        _, link = await loop.create_connection(
            lambda: Link(self, opts.protocol_version, self._generation),
            opts.host,
            opts.port,
            ssl=self._tls,
        )
        link.set_option(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        self._link = link
        request = wire.ConnectRequest(
            opts.client_id,
            opts.keepalive_s,
            opts.protocol_version,
            opts.username,
            opts.password,
            SESSION_EXPIRY_S,
            opts.receive_maximum,
        )
        session_present = await link.handshake(request)
        log.info("MQTT connected", extra={"session_present": session_present})
        # No filters: a link that only publishes (commands, when devices come in over NATS).
        filters = subscription_filters(opts.share_group, opts.filters)
        refused = await link.subscribe(filters) if filters else []
        if refused:
            log.error("MQTT subscription refused", extra={"reasons": refused})
            raise CiudadError(f"subscription refused: {refused}")
        for packet in self._outgoing.values():
            link.write(wire.mark_duplicate(packet))
        # Ready only once the broker has the subscription, so no publish can slip past us.
        self._connected.set()

    async def _keep_connected(self) -> None:
        attempt = 0
        while True:
            link = self._link
            if link is not None:
                await link.closed
            self._connected.clear()
            if self._stopping:
                return
            delay = min(_RECONNECT_MAX_S, _RECONNECT_MIN_S * 2.0**attempt)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311
            try:
                await asyncio.wait_for(self._connect(), 15.0)
                attempt = 0
            except (OSError, TimeoutError, wire.ProtocolError, CiudadError) as exc:
                attempt += 1
                if self._link is not None:
                    self._link.close()
                log.warning("MQTT reconnect failed", extra={"error": str(exc) or repr(exc)})

    async def next_batch(self, max_messages: int, max_wait_s: float) -> list[InboundMessage]:
        """Waits for one message, then gathers more until ``max_wait_s`` or ``max_messages``."""
        batch = await take_batch(self._queue, self._arrived, max_messages, max_wait_s)
        if self._link is not None and len(self._queue) < self._high_water // 2:
            self._link.resume()
        return batch

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """Publishes (commands downlink); QoS 1 is resent on reconnect until acknowledged."""
        version = self._options.protocol_version
        if qos == 0:
            if self._link is not None and self.connected:
                self._link.write(wire.publish_packet(topic, payload, 0, version=version))
            return
        packet_id = self._free_packet_id()
        packet = wire.publish_packet(topic, payload, 1, packet_id, version)
        self._outgoing[packet_id] = packet
        if self._link is not None and self.connected:
            self._link.write(packet)

    def _free_packet_id(self) -> int:
        while True:
            self._next_id = self._next_id % 65535 + 1
            if self._next_id not in self._outgoing:
                return self._next_id

    def ack(self, messages: Sequence[InboundMessage]) -> None:
        link = self._link
        if link is None:
            return
        # Messages of an earlier connection are redelivered by the broker: not ours to ack.
        ids = [m.mid for m in messages if m.qos and m.connection == self._generation]
        if ids:
            link.write(wire.pubacks(ids))

    # LinkEvents: called by the link on the event loop.
    def room(self) -> int:
        return self._high_water - len(self._queue)

    def on_messages(self, messages: list[InboundMessage]) -> None:
        self._queue.extend(messages)
        self.peak_queue_depth = max(self.peak_queue_depth, len(self._queue))
        self._arrived.set()

    def on_puback(self, packet_id: int) -> None:
        self._outgoing.pop(packet_id, None)

    def on_lost(self, reason: str) -> None:
        if not self._stopping:
            log.warning("MQTT disconnected; reconnecting", extra={"reason": reason})
        self._connected.clear()
