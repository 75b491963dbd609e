"""The columnar fast path gives exactly what the per-message pipeline gives."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acquisition import (
    ENTITY_TYPES,
    EntityValidator,
    MeasurePipeline,
    Provisioning,
    TimePolicy,
    assemble_batch,
)
from acquisition.inputs.mqtt import InboundMessage
from acquisition.normalise.columnar import normalise_columns
from capture import (
    DeviceSpec,
    ReadingGenerator,
    build_fleet,
    encode_measures,
    format_time,
    measure_topic,
)
from support import LEON_LATITUDE, LEON_LONGITUDE
from tests.helpers.fleet import APIKEY
from tests.helpers.fuzzing import fuzz_examples

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
POLICY = TimePolicy(max_future=timedelta(minutes=5), max_past=timedelta(days=30))


@functools.cache
def _validator() -> EntityValidator:
    """Compiled schemas only (stateless): built once, a fresh pipeline per case."""
    return EntityValidator({n: t.schema_file for n, t in ENTITY_TYPES.items()})


def _pipeline(provisioning: Provisioning) -> MeasurePipeline:
    return MeasurePipeline(provisioning, _validator(), POLICY)


def _scalar(pipeline: MeasurePipeline, messages: list[InboundMessage]) -> tuple[set, set, set]:
    readings, entities, dead = set(), set(), set()
    for m in messages:
        outcome = pipeline.process(m.topic, m.payload, m.received_at)
        readings |= set(outcome.readings)
        entities |= {(e.entity_id, e.entity_type) for e in outcome.entities}
        dead |= {(d.reason, d.topic, d.payload) for d in outcome.dead_letters}
    return readings, entities, dead


def _batched(pipeline: MeasurePipeline, messages: list[InboundMessage]) -> tuple[set, set, set]:
    batch, _ = assemble_batch(pipeline, messages)
    return (
        set(batch.readings),
        {(e.entity_id, e.entity_type) for e in batch.entities},
        {(d.reason, d.topic, d.payload) for d in batch.dead_letters},
    )


def _message(n: int, topic: str, payload: bytes) -> InboundMessage:
    return InboundMessage(topic, payload, n, 1, NOW)


DEVICES = ["noise-001", "air-002", "parking-003", "streetlight-004", "ghost"]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-300, 3000),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["free", "occupied", "on", "off", "ok", "", "x"]),
)
KEYS = st.sampled_from(
    [
        "laeq",
        "lamax",
        "l10",
        "pm25",
        "pm10",
        "rh",
        "tmp",
        "st",
        "on",
        "dim",
        "w",
        "flt",
        "fw",
        "bat",
        "rssi",
        "zzz",
    ]
)
TIMES = st.one_of(
    st.integers(-40 * 86400, 600).map(lambda s: format_time(NOW.timestamp() + s)),
    st.sampled_from(["2026-11-22T09:59:00", "nonsense", ""]),
    st.integers(0, 10),
)
MEASURE = st.builds(lambda t, kv: {"t": t, **kv}, TIMES, st.dictionaries(KEYS, VALUES, max_size=5))
RAW = st.one_of(
    MEASURE.map(lambda m: json.dumps(m, allow_nan=True).encode()),
    st.lists(MEASURE, max_size=4).map(lambda ms: json.dumps(ms, allow_nan=True).encode()),
    st.sampled_from([b"{", b"{}", b'{"t": 1}', b"[]", b"null", b'{"laeq": 50}']),
)
FLEET = {d.device_id: d for d in build_fleet(LEON_LATITUDE, LEON_LONGITUDE, APIKEY)}


def _perturbed(device_id: str, seconds: int, key: str, value: object, touch: bool) -> bytes:
    """A realistic measure of the device, with one value possibly replaced."""
    measure = ReadingGenerator(FLEET[device_id]).measure(NOW.timestamp() - seconds)
    if touch:
        measure[key] = value
    return json.dumps(measure, allow_nan=True).encode()


REALISTIC = st.builds(
    lambda d, s, k, v, touch: (d, _perturbed(d, s, k, v, touch)),
    st.sampled_from(DEVICES[:4]),
    st.integers(0, 7200),
    KEYS,
    VALUES,
    st.booleans(),
)


def _backlog(device_id: str, start: int, count: int) -> bytes:
    generator = ReadingGenerator(FLEET[device_id])
    return json.dumps(
        [generator.measure(NOW.timestamp() - start + k) for k in range(count)]
    ).encode()


BACKLOGS = st.builds(
    lambda d, s, n: (d, _backlog(d, s, n)),
    st.sampled_from(DEVICES[:4]),
    st.integers(100, 7200),
    st.integers(1, 6),
)
MESSAGES = st.lists(
    st.one_of(st.tuples(st.sampled_from(DEVICES), RAW), REALISTIC, BACKLOGS), max_size=25
)


@settings(max_examples=fuzz_examples(200), deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=MESSAGES)
def test_fast_path_equals_the_scalar_pipeline_on_arbitrary_input(
    provisioning: Provisioning, raw: list[tuple[str, bytes]]
) -> None:
    messages = [_message(n, measure_topic(APIKEY, d), p) for n, (d, p) in enumerate(raw)]
    assert _batched(_pipeline(provisioning), messages) == _scalar(_pipeline(provisioning), messages)


def test_realistic_traffic_takes_the_fast_path_and_agrees(
    provisioning: Provisioning, fleet: tuple[DeviceSpec, ...]
) -> None:
    generators = [ReadingGenerator(d) for d in fleet]
    messages = [
        _message(
            n,
            measure_topic(g.device.apikey, g.device.device_id),
            encode_measures(g.measure(NOW.timestamp() - 3600 + n)),
        )
        for n in range(10)
        for g in generators
    ]
    fast_pipeline = _pipeline(provisioning)
    assemble_batch(fast_pipeline, messages[: len(generators)])  # first sight: full validation
    fast = normalise_columns(fast_pipeline, messages[len(generators) :])
    assert fast.leftovers == []  # every realistic message went the columnar way
    assert _batched(fast_pipeline, messages) == _scalar(_pipeline(provisioning), messages)


def test_backlog_arrays_take_the_fast_path_whole_and_agree(
    provisioning: Provisioning, fleet: tuple[DeviceSpec, ...]
) -> None:
    generators = [ReadingGenerator(d) for d in fleet]
    first = [
        _message(n, measure_topic(g.device.apikey, g.device.device_id), encode_measures(m))
        for n, g in enumerate(generators)
        for m in [g.measure(NOW.timestamp() - 7200)]
    ]
    backlogs = [
        _message(
            len(first) + n,
            measure_topic(g.device.apikey, g.device.device_id),
            encode_measures([g.measure(NOW.timestamp() - 3600 + k) for k in range(50)]),
        )
        for n, g in enumerate(generators)
    ]
    fast_pipeline = _pipeline(provisioning)
    assemble_batch(fast_pipeline, first)  # first sight: full validation
    fast = normalise_columns(fast_pipeline, backlogs)
    assert fast.leftovers == []
    assert _batched(fast_pipeline, first + backlogs) == _scalar(
        _pipeline(provisioning), first + backlogs
    )
