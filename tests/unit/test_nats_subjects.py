"""MQTT topics as nats-server 2.9 maps them to subjects, and back (no sockets)."""

from __future__ import annotations

import pytest

from acquisition.inputs.nats import subject_to_topic, topic_matches, topic_to_subject


@pytest.mark.parametrize(
    ("topic", "subject"),
    [
        ("/json/leon-sensors/noise-001/attrs", "/.json.leon-sensors.noise-001.attrs"),
        ("/json/+/+/attrs", "/.json.*.*.attrs"),
        ("/+/+/attrs", "/.*.*.attrs"),
        ("a/b/#", "a.b.>"),
        ("foo//bar", "foo./.bar"),
    ],
)
def test_topics_map_to_subjects_as_nats_server_does(topic: str, subject: str) -> None:
    assert topic_to_subject(topic) == subject


@pytest.mark.parametrize(
    "topic", ["/json/leon-sensors/noise-001/attrs", "/ul/k/d/attrs", "/k/d/cmdexe", "a/b"]
)
def test_subjects_map_back_to_their_topics(topic: str) -> None:
    assert subject_to_topic(topic_to_subject(topic)) == topic


def test_filters_match_like_mqtt() -> None:
    assert topic_matches("/json/+/+/attrs", "/json/k/d/attrs")
    assert not topic_matches("/json/+/+/attrs", "/json/k/d/ota")
    assert not topic_matches("/+/+/attrs", "/json/k/d/attrs")  # one level too many
    assert topic_matches("/json/#", "/json/k/d/ota")
