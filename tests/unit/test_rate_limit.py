"""The gateway's per-device token bucket (pure: time comes in as an argument)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from acquisition import RATE_LIMITED, DeviceRateLimiter, Provisioning
from acquisition.gateway.rate_limit import device_of
from acquisition.inputs.mqtt import InboundMessage

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def messages(topic: str, count: int) -> list[InboundMessage]:
    return [InboundMessage(topic, b'{"t": 1}', n, 1, NOW) for n in range(count)]


def test_a_device_gets_its_burst_then_its_rate() -> None:
    limiter = DeviceRateLimiter(per_second=2, burst=5)
    admitted, over = limiter.split(messages("/json/k/a/attrs", 8), now=100.0)
    assert (len(admitted), len(over)) == (5, 3)
    assert [m.mid for m in over] == [5, 6, 7]  # the latest are refused, in order
    admitted, over = limiter.split(messages("/json/k/a/attrs", 3), now=101.0)
    assert (len(admitted), len(over)) == (2, 1)  # one second: two more tokens
    admitted, _ = limiter.split(messages("/json/k/a/attrs", 10), now=1000.0)
    assert len(admitted) == 5  # refilled, but never above the burst


def test_devices_are_limited_apart_and_a_device_s_topics_together() -> None:
    limiter = DeviceRateLimiter(per_second=1, burst=4)
    batch = messages("/json/k/a/attrs", 2) + messages("/ul/k/a/attrs", 2)
    batch += messages("/json/k/a/status", 1) + messages("/json/k/b/attrs", 4)
    admitted, over = limiter.split(batch, now=5.0)
    assert [m.topic for m in over] == ["/json/k/a/status"]
    assert len(admitted) == 8


def test_within_the_limit_the_batch_is_passed_on_as_it_is() -> None:
    limiter = DeviceRateLimiter(per_second=1, burst=10)
    batch = messages("/k/a/attrs", 3)
    admitted, over = limiter.split(batch, now=0.0)
    assert admitted is batch
    assert over == []


def test_refused_messages_become_counted_dead_letters_of_the_device_s_tenant() -> None:
    limiter = DeviceRateLimiter(per_second=1, burst=1)
    _, over = limiter.split(messages("/json/k/a/attrs", 2) + messages("/json/x/y/attrs", 2), 0.0)
    letters = limiter.dead_letters(over, Provisioning([], {}))
    assert [d.reason for d in letters] == [RATE_LIMITED, RATE_LIMITED]
    assert letters[0].payload == '{"t": 1}'
    assert letters[0].topic == "/json/k/a/attrs"
    assert letters[0].tenant is None  # not provisioned here: no tenant to show it to


def test_topics_parse_to_their_device() -> None:
    assert device_of("/json/k/a/attrs") == ("k", "a")
    assert device_of("/k/a/attrs") == ("k", "a")
    assert device_of("/json/k/a/cmdexe") == ("k", "a")
    assert device_of("odd") == ("", "odd")


def test_tracked_topics_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("acquisition.gateway.rate_limit.MAX_TRACKED_TOPICS", 3)
    limiter = DeviceRateLimiter(per_second=1, burst=1)
    for n in range(7):
        limiter.split(messages(f"/json/k/d{n}/attrs", 1), now=0.0)
    assert limiter.resets == 2


def test_a_limit_needs_a_rate_and_a_burst() -> None:
    with pytest.raises(ValueError, match="per_second"):
        DeviceRateLimiter(per_second=0, burst=1)
