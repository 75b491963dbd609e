"""A per-device rate limit for the gateway: one token bucket per device.

One broken or hostile node publishing thousands of messages a second would
otherwise fill the store with its readings. Messages over the limit become
``rate_limited`` dead letters, counted by reason like every other refusal, so
nothing disappears silently and an operator can replay them.

Every message counts (measures, status, command results), as the gateway
receives it: a backlog that the broker held through a gateway outage arrives at
once, so the burst must cover the longest backlog a healthy device builds up.
Each gateway process limits on its own: with N gateways sharing the load, a
device gets up to N times the rate.

The hot path costs one dict look-up by topic (a string the message already has)
and a few float operations; a topic is parsed once, the first time it is seen.
"""

from __future__ import annotations

from collections.abc import Sequence

from acquisition.inputs.mqtt import InboundMessage
from acquisition.normalise.pipeline import DEAD_LETTER_PAYLOAD_CHARS
from acquisition.provisioning.model import Provisioning
from acquisition.records import DeadLetter
from support import PayloadError

RATE_LIMITED = "rate_limited"
# Bounds the memory an unbounded set of topics could take (an anonymous broker lets
# anyone invent device names); past it every bucket starts again full.
MAX_TRACKED_TOPICS = 100_000


class _Bucket:
    """Tokens left for one device and when they were last topped up (monotonic s)."""

    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


def device_of(topic: str) -> tuple[str, str]:
    """(apikey, device id) of ``/<proto>/<apikey>/<device>/<kind>`` or the legacy
    ``/<apikey>/<device>/attrs``; an unexpected topic is a "device" of its own."""
    parts = topic.rsplit("/", 3)
    if len(parts) != 4:
        return ("", topic)
    return parts[1], parts[2]


class DeviceRateLimiter:
    """``per_second`` messages a second on average per device, up to ``burst`` at once."""

    def __init__(self, per_second: float, burst: int) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a rate limit needs per_second > 0 and burst >= 1")
        self._rate = per_second
        self._burst = float(burst)
        self._by_topic: dict[str, _Bucket] = {}
        self._by_device: dict[tuple[str, str], _Bucket] = {}
        self._detail = f"over {per_second:g} messages/s (burst {burst}) from this device"
        self.resets = 0

    def split(
        self, messages: Sequence[InboundMessage], now: float
    ) -> tuple[Sequence[InboundMessage], list[InboundMessage]]:
        """(admitted, over the limit), in arrival order; ``now`` in monotonic seconds.

        When nothing is over the limit, ``messages`` itself comes back (no copy).
        """
        admitted: list[InboundMessage] | None = None
        limited: list[InboundMessage] = []
        for index, message in enumerate(messages):
            if self._take(message.topic, now):
                if admitted is not None:
                    admitted.append(message)
            else:
                if admitted is None:
                    admitted = list(messages[:index])
                limited.append(message)
        return (messages if admitted is None else admitted), limited

    def _take(self, topic: str, now: float) -> bool:
        bucket = self._by_topic.get(topic) or self._track(topic, now)
        if bucket.stamp != now:
            elapsed = now - bucket.stamp
            bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate)
            bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def _track(self, topic: str, now: float) -> _Bucket:
        if len(self._by_topic) >= MAX_TRACKED_TOPICS:
            self._by_topic.clear()
            self._by_device.clear()
            self.resets += 1
        key = device_of(topic)
        bucket = self._by_device.get(key)
        if bucket is None:
            bucket = self._by_device[key] = _Bucket(self._burst, now)
        self._by_topic[topic] = bucket
        return bucket

    def dead_letters(
        self, messages: Sequence[InboundMessage], provisioning: Provisioning
    ) -> tuple[DeadLetter, ...]:
        """The refused messages as dead letters, with the device's tenant when it is known."""
        return tuple(self._dead_letter(m, provisioning) for m in messages)

    def _dead_letter(self, message: InboundMessage, provisioning: Provisioning) -> DeadLetter:
        apikey, device_id = device_of(message.topic)
        try:
            tenant: str | None = provisioning.lookup(apikey, device_id).tenant
        except PayloadError:
            tenant = None
        return DeadLetter(
            received_at=message.received_at,
            topic=message.topic,
            payload=message.payload[:DEAD_LETTER_PAYLOAD_CHARS].decode("utf-8", "replace"),
            reason=RATE_LIMITED,
            detail=self._detail,
            tenant=tenant,
            device_id=device_id if tenant is not None else None,
        )
