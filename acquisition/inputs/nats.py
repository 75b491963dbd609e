"""NATS JetStream input for the gateway: a durable pull consumer shared by every worker.

Devices keep publishing MQTT (QoS 1) to any node of a NATS cluster.  nats-server
stores every QoS 1 publish in its ``$MQTT_msgs`` stream (replicated, interest
retention) *before* it sends the PUBACK, so reading that stream means a reading
the device saw acknowledged is one this input will be handed (docs/scaling.md,
"The broker tier").  A stream of our own (any other CIUDAD_NATS_STREAM) is made
to capture the device subjects instead; nats-server feeds it without waiting,
so a node dying between the PUBACK and that stream's commit can lose a reading.

Every gateway worker binds to the same durable consumer, so the server splits
the messages between them; each message is acknowledged only when the gateway
calls ``ack()`` (after its batch is stored or spooled), and a worker that dies
leaves its unacknowledged messages to be redelivered to the others after
``ack_wait``.  ``max_ack_pending`` bounds what the workers hold unacknowledged
(backpressure: while the store is down the cluster keeps the rest).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StreamConfig

from acquisition.inputs.inbound import InboundMessage, take_batch
from acquisition.inputs.mqtt import GATEWAY_FILTERS
from support import CiudadError

__all__ = [
    "MQTT_STREAM",
    "NatsOptions",
    "NatsSource",
    "subject_to_topic",
    "topic_matches",
    "topic_to_subject",
]
log = logging.getLogger(__name__)
MQTT_STREAM = "$MQTT_msgs"  # where nats-server keeps every MQTT QoS 1 publish
MQTT_STREAM_PREFIX = "$MQTT.msgs."
_FETCH_TIMEOUT_S = 1.0
_RETRY_S = 0.5


@dataclass(frozen=True, slots=True)
class NatsOptions:
    servers: tuple[str, ...]
    stream: str = MQTT_STREAM
    consumer: str = "ciudad-gateway"
    max_ack_pending: int = 20_000
    # Far past a slow commit or a store retry: redelivery before then would only duplicate.
    ack_wait_s: float = 120.0
    replicas: int = 3
    fetch_batch: int = 1000
    filters: tuple[str, ...] = GATEWAY_FILTERS  # other device topics are acknowledged unread


def topic_to_subject(topic: str) -> str:
    """An MQTT topic (or filter) as nats-server 2.9 maps it: '/' separates tokens,
    a leading or doubled '/' becomes a '/' token ("/json/a" -> "/.json.a"), '+' -> '*',
    '#' -> '>'."""
    levels = topic.split("/")
    tokens = [{"+": "*", "#": ">"}.get(level, level) or "/" for level in levels]
    if topic.startswith("/"):
        tokens = ["/", *tokens[1:]]
    return ".".join(tokens)


def subject_to_topic(subject: str) -> str:
    """The MQTT topic of a subject nats-server made from one (its natsSubjectToMQTTTopic)."""
    out: list[str] = []
    i, end = 0, len(subject) - 1
    while i <= end:
        char = subject[i]
        if char == "/":
            if not (i == 0 and i < end and subject[1] == "."):
                out.append("/")
        elif char == ".":
            out.append("/")
            if i < end and subject[i + 1] == "/":
                i += 1
        else:
            out.append(char)
        i += 1
    return "".join(out)


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT filter matching ('+' one level, '#' the rest)."""
    wanted, levels = topic_filter.split("/"), topic.split("/")
    for index, level in enumerate(wanted):
        if level == "#":
            return True
        if index >= len(levels) or (level != "+" and level != levels[index]):
            return False
    return len(wanted) == len(levels)


class NatsSource:
    """Reads the device messages of one durable JetStream consumer in batches."""

    def __init__(self, options: NatsOptions) -> None:
        self._options = options
        self._nc: Client | None = None
        self._queue: deque[InboundMessage] = deque()
        self._arrived = asyncio.Event()
        self._unacked: dict[int, Msg] = {}
        self._held: dict[int, int] = {}  # stream sequence -> mid, of what _unacked holds
        self._ids = itertools.count(1)
        self._acking: set[asyncio.Task[None]] = set()
        self._fetcher: asyncio.Task[None] | None = None
        self.skipped = 0  # device messages that are not the gateway's (acknowledged unread)

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def _prefix(self) -> str:
        return MQTT_STREAM_PREFIX if self._options.stream == MQTT_STREAM else ""

    async def start(self, timeout_s: float = 15.0) -> None:
        opts = self._options
        try:
            self._nc = await nats.connect(
                list(opts.servers),
                name=opts.consumer,
                connect_timeout=min(timeout_s, 5.0),
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                error_cb=self._on_error,
                disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected,
            )
            js = self._nc.jetstream(timeout=timeout_s)
            await asyncio.wait_for(self._ensure_consumer(js), timeout_s)
            subscription = await js.pull_subscribe_bind(opts.consumer, opts.stream)
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            await self.close()
            raise CiudadError(f"cannot use NATS {','.join(opts.servers)}: {exc!r}") from exc
        self._fetcher = asyncio.create_task(self._fetch_forever(subscription), name="nats-fetch")
        log.info("NATS input ready", extra={"stream": opts.stream, "consumer": opts.consumer})

    async def _ensure_consumer(self, js: JetStreamContext) -> None:
        """Creates the stream and the durable consumer unless they exist (idempotent)."""
        opts = self._options
        try:
            await js.stream_info(opts.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(self._stream_config())
            log.info("NATS stream created", extra={"stream": opts.stream})
        config = ConsumerConfig(
            durable_name=opts.consumer,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=opts.ack_wait_s,
            max_ack_pending=opts.max_ack_pending,
            max_deliver=-1,
            filter_subject=f"{self._prefix}/.>",
            num_replicas=opts.replicas,
        )
        try:
            await js.add_consumer(opts.stream, config)
        except nats.js.errors.BadRequestError as exc:
            # Another worker made it first, or it exists with other limits: it is kept.
            log.info("NATS consumer kept as it is", extra={"reason": exc.description})

    def _stream_config(self) -> StreamConfig:
        opts = self._options
        if opts.stream == MQTT_STREAM:
            # As nats-server makes it itself when the first MQTT client connects.
            subjects = [f"{MQTT_STREAM_PREFIX}>"]
        else:
            subjects = [topic_to_subject(f) for f in opts.filters]
        return StreamConfig(
            name=opts.stream,
            subjects=subjects,
            retention=RetentionPolicy.INTEREST,
            num_replicas=opts.replicas,
        )

    async def _fetch_forever(self, subscription: JetStreamContext.PullSubscription) -> None:
        """Keeps the local queue fed; max_ack_pending bounds it (the server stops sending)."""
        batch = min(self._options.fetch_batch, self._options.max_ack_pending)
        while True:
            try:
                messages = await subscription.fetch(batch, timeout=_FETCH_TIMEOUT_S)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except nats.errors.Error as exc:
                # The node we talk to died or lost quorum: the client reconnects by itself.
                log.debug("NATS fetch failed", extra={"error": repr(exc)})
                await asyncio.sleep(_RETRY_S)
                continue
            self._take(messages)

    def _take(self, messages: list[Msg]) -> None:
        now = datetime.now(UTC)
        prefix_length = len(self._prefix)
        skipped: list[Msg] = []
        for msg in messages:
            topic = subject_to_topic(msg.subject[prefix_length:])
            if not any(topic_matches(f, topic) for f in self._options.filters):
                skipped.append(msg)
                continue
            sequence = msg.metadata.sequence.stream
            held = self._held.get(sequence)
            if held is not None:
                # Redelivered after ack_wait while its batch still waits for the store: one
                # copy in memory is enough, acknowledged through the newest delivery.
                self._unacked[held] = msg
                continue
            mid = next(self._ids)
            self._unacked[mid] = msg
            self._held[sequence] = mid
            self._queue.append(InboundMessage(topic, msg.data, mid, 1, now))
        if skipped:
            self.skipped += len(skipped)
            self._schedule_acks(skipped)
        if self._queue:
            self._arrived.set()

    async def next_batch(self, max_messages: int, max_wait_s: float) -> list[InboundMessage]:
        """Waits for one message, then gathers more until ``max_wait_s`` or ``max_messages``."""
        return await take_batch(self._queue, self._arrived, max_messages, max_wait_s)

    def ack(self, messages: Sequence[InboundMessage]) -> None:
        """Acknowledges a stored (or spooled) batch; the publishes go out in a task that
        ``close()`` waits for, so none is lost by returning before they are sent."""
        done = [msg for m in messages if (msg := self._unacked.pop(m.mid, None)) is not None]
        for msg in done:
            self._held.pop(msg.metadata.sequence.stream, None)
        if done:
            self._schedule_acks(done)

    def _schedule_acks(self, messages: list[Msg]) -> None:
        task = asyncio.create_task(self._ack_all(messages))
        self._acking.add(task)
        task.add_done_callback(self._acking.discard)

    async def _ack_all(self, messages: list[Msg]) -> None:
        for msg in messages:
            try:
                await msg.ack()
            except nats.errors.Error as exc:
                # Not acknowledged: the server redelivers it after ack_wait, and the store's
                # idempotent writes make the second copy a no-op.
                log.warning("NATS ack failed", extra={"error": repr(exc)})
                return

    async def close(self, timeout_s: float = 10.0) -> None:
        """Stops fetching, sends the acknowledgements still pending, then disconnects."""
        if self._fetcher is not None:
            self._fetcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._fetcher
            self._fetcher = None
        nc, self._nc = self._nc, None
        if nc is None:
            return
        try:
            if self._acking:
                await asyncio.wait_for(asyncio.gather(*self._acking), timeout_s)
            if nc.is_connected:
                await nc.flush(timeout=int(timeout_s))
        except (TimeoutError, nats.errors.Error) as exc:
            log.warning("NATS acks not all flushed", extra={"error": repr(exc)})
        finally:
            await nc.close()

    async def _on_error(self, exc: Exception) -> None:
        log.debug("NATS client error", extra={"error": repr(exc)})

    async def _on_disconnected(self) -> None:
        if self._nc is not None:  # not our own close()
            log.warning("NATS disconnected; reconnecting to another node")

    async def _on_reconnected(self) -> None:
        url = self._nc.connected_url if self._nc is not None else None
        log.info("NATS reconnected", extra={"server": str(url.netloc) if url else None})
