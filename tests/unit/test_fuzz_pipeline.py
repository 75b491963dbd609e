"""Fuzzing: whatever arrives, the pipeline never crashes and never drops input silently."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acquisition import MeasurePipeline
from capture import format_time
from tests.helpers.fleet import APIKEY
from tests.helpers.fuzzing import fuzz_examples

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
DEVICES = ["noise-001", "air-001", "parking-001", "streetlight-001", "ghost"]
TOPICS = st.one_of(
    st.builds(
        lambda p, d, s: f"/{p}/{APIKEY}/{d}/{s}",
        st.sampled_from(["json", "ul", "xml"]),
        st.sampled_from(DEVICES),
        st.sampled_from(["attrs", "status", "cmdexe", "cmd"]),
    ),
    st.builds(lambda d: f"/{APIKEY}/{d}/attrs", st.sampled_from(DEVICES)),
    st.text(max_size=40),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
KEYS = st.sampled_from(
    ["t", "laeq", "lamax", "pm25", "rh", "st", "on", "dim", "w", "fw", "bat", "rssi", "bogus"]
)
MEASURES = st.dictionaries(
    KEYS, st.one_of(SCALARS, st.just(format_time(NOW.timestamp()))), max_size=6
)


def _json_bytes(body: object) -> bytes:
    return json.dumps(body, allow_nan=True).encode()


PAYLOADS = st.one_of(
    st.binary(max_size=200),
    MEASURES.map(_json_bytes),
    st.lists(MEASURES, max_size=5).map(_json_bytes),
    st.lists(st.tuples(KEYS, st.text(alphabet="0123456789.-abc:TZ", max_size=10)), max_size=5).map(
        lambda kv: "|".join(f"{k}|{v}" for k, v in kv).encode()
    ),
)


@settings(
    max_examples=fuzz_examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(topic=TOPICS, payload=PAYLOADS)
def test_every_input_is_accepted_or_dead_lettered_with_a_reason(
    pipeline: MeasurePipeline, topic: str, payload: bytes
) -> None:
    outcome = pipeline.process(topic, payload, NOW)
    for letter in outcome.dead_letters:
        assert letter.reason
        assert letter.detail
        assert letter.topic == topic
    nothing_accepted = not outcome.readings and not outcome.command_results
    if nothing_accepted:
        assert outcome.dead_letters, (topic, payload)
    for reading in outcome.readings:
        assert reading.value == reading.value  # never NaN
        assert reading.observed_at.tzinfo is not None
