"""MQTT input for the gateway: a paho client on its own thread behind an async interface.

The paho network thread only enqueues (no user code runs there).  Messages are
acknowledged *manually*, after the batch holding them is committed, so a crash
between reception and commit makes the broker redeliver (at-least-once; the
store's idempotent writes turn that into exactly-once rows).  The MQTT 5
Receive Maximum caps how many unacknowledged messages the broker sends us,
which bounds the local queue: when the store is slow or down the broker holds
the rest (backpressure) instead of us dropping anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from capture import MEASURE_TOPIC_FILTERS
from support import CiudadError

log = logging.getLogger(__name__)
SESSION_EXPIRY_S = 7 * 86400


@dataclass(frozen=True, slots=True)
class InboundMessage:
    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at: datetime


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


def subscription_filters(
    share_group: str | None, filters: tuple[str, ...] = GATEWAY_FILTERS
) -> list[str]:
    """Measure and status topic filters, as shared subscriptions when a share group is set."""
    if share_group is None:
        return list(filters)
    # "$share/<group>/<filter>"; our filters start with "/" (an empty first level), hence "//".
    return [f"$share/{share_group}/{f}" for f in filters]


class MqttSource:
    """Connects, (re)subscribes on every connect, and yields messages in batches."""

    def __init__(self, options: MqttOptions) -> None:
        self._options = options
        self._queue: asyncio.Queue[InboundMessage] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = asyncio.Event()
        self._client = self._make_client()
        self.peak_queue_depth = 0

    def _make_client(self) -> mqtt.Client:
        opts = self._options
        v311 = opts.protocol_version == 4
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=opts.client_id,
            protocol=mqtt.MQTTv311 if v311 else mqtt.MQTTv5,
            clean_session=False if v311 else None,
            manual_ack=True,
        )
        if opts.username:
            client.username_pw_set(opts.username, opts.password)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self, timeout_s: float = 15.0) -> None:
        self._loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = self._options.receive_maximum
        opts = self._options
        try:
            if opts.protocol_version == 4:
                self._client.connect(opts.host, opts.port, keepalive=opts.keepalive_s)
            else:
                self._client.connect(
                    opts.host,
                    opts.port,
                    keepalive=opts.keepalive_s,
                    clean_start=False,
                    properties=props,
                )
        except OSError as exc:
            raise CiudadError(f"cannot reach MQTT broker {opts.host}:{opts.port}: {exc}") from exc
        self._client.loop_start()
        try:
            await asyncio.wait_for(self._connected.wait(), timeout_s)
        except TimeoutError:
            self.stop()
            raise CiudadError(f"MQTT broker {opts.host}:{opts.port} did not accept us") from None

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    async def next_batch(self, max_messages: int, max_wait_s: float) -> list[InboundMessage]:
        """Waits for one message, then gathers more until ``max_wait_s`` or ``max_messages``."""
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait_s
        while len(batch) < max_messages:
            if self._queue.empty():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            else:
                batch.append(self._queue.get_nowait())
        return batch

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """Publishes (commands downlink); paho queues it while we are disconnected."""
        self._client.publish(topic, payload, qos=qos)

    def ack(self, messages: Sequence[InboundMessage]) -> None:
        for message in messages:
            if message.qos > 0:
                self._client.ack(message.mid, message.qos)

    # paho callbacks: run on paho's network thread; they only hand over to the event loop.
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused", extra={"reason": str(reason)})
            return
        opts = self._options
        client.subscribe([(f, 1) for f in subscription_filters(opts.share_group, opts.filters)])
        log.info("MQTT connected", extra={"session_present": bool(flags.session_present)})

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: list[ReasonCode], props: Any
    ) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("MQTT subscription refused", extra={"reasons": refused})
            return
        # Ready only once the broker has the subscription, so no publish can slip past us.
        self._call_in_loop(self._connected.set)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        log.warning("MQTT disconnected; paho reconnects", extra={"reason": str(reason)})
        self._call_in_loop(self._connected.clear)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        inbound = InboundMessage(msg.topic, bytes(msg.payload), msg.mid, msg.qos, datetime.now(UTC))
        self._call_in_loop(self._enqueue, inbound)

    def _enqueue(self, message: InboundMessage) -> None:
        self._queue.put_nowait(message)
        self.peak_queue_depth = max(self.peak_queue_depth, self._queue.qsize())

    def _call_in_loop(self, func: Callable[..., object], *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(func, *args)
