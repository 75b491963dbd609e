"""The wire protocol (capture) and its decoder (acquisition) agree, and bad input is named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from acquisition import decode_json_measures, parse_measure_topic, parse_observation_time
from acquisition.formats import MAX_PAYLOAD_BYTES
from capture import command_topic, encode_measures, format_time, measure_topic
from support import PayloadError


def test_measure_topic_round_trips_through_the_gateway_parser() -> None:
    address = parse_measure_topic(measure_topic("key-1", "noise-007"))
    assert (address.apikey, address.device_id) == ("key-1", "noise-007")


def test_legacy_topic_without_protocol_prefix_is_accepted() -> None:
    address = parse_measure_topic("/key-1/noise-007/attrs")
    assert (address.apikey, address.device_id) == ("key-1", "noise-007")


def test_command_topic_has_no_protocol_prefix() -> None:
    assert command_topic("k", "lamp-1") == "/k/lamp-1/cmd"


@pytest.mark.parametrize(
    "topic",
    ["json/k/d/attrs", "/json/k/d/cmdexe", "/json/k//attrs", "/k/d/attrs/x", "/json/k/d", ""],
)
def test_other_topics_are_refused_as_bad_topic(topic: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_measure_topic(topic)
    assert caught.value.reason == "bad_topic"


def test_one_measure_is_an_object_and_several_an_array() -> None:
    one = {"t": "2026-11-22T10:00:00.000Z", "laeq": 55.1}
    assert json.loads(encode_measures(one)) == one
    assert decode_json_measures(encode_measures(one)) == [one]
    backlog = [one, {**one, "laeq": 56.0}]
    assert decode_json_measures(encode_measures(backlog)) == backlog


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[]", "bad_shape"),
        (b"42", "bad_shape"),
        (b'[{"t": 1}, "x"]', "bad_shape"),
        (b" " * (MAX_PAYLOAD_BYTES + 1), "too_large"),
    ],
)
def test_malformed_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        decode_json_measures(payload)
    assert caught.value.reason == reason


def test_format_time_is_rfc3339_utc_with_milliseconds() -> None:
    stamp = datetime(2026, 11, 22, 10, 0, 1, 234_567, tzinfo=UTC)
    text = format_time(stamp.timestamp())
    assert text == "2026-11-22T10:00:01.234Z"
    assert parse_observation_time(text) == stamp.replace(microsecond=234_000)


def test_observation_time_keeps_its_offset() -> None:
    parsed = parse_observation_time("2026-11-22T11:00:00+01:00")
    assert parsed.utcoffset() == timedelta(hours=1)
    assert parsed == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert parsed.tzinfo is not None
    assert parsed.astimezone(UTC).hour == 10


@pytest.mark.parametrize("raw", ["2026-11-22T10:00:00", "yesterday", 1732270000, None])
def test_naive_or_malformed_times_are_refused(raw: object) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_observation_time(raw)
    assert caught.value.reason == "bad_time"


def test_shared_subscription_keeps_the_filters_empty_first_level() -> None:
    from acquisition import subscription_filters

    assert subscription_filters(None) == [
        "/json/+/+/attrs",
        "/ul/+/+/attrs",
        "/+/+/attrs",
        "/json/+/+/status",
        "/json/+/+/cmdexe",
    ]
    assert subscription_filters("gw")[0] == "$share/gw//json/+/+/attrs"
