"""decode -> normalise -> validate: accepted readings, and a named reason for all else."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from acquisition import MeasurePipeline, ValueType
from capture import encode_measures, format_time, measure_topic
from tests.helpers.fleet import APIKEY, TENANT

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
STAMP = format_time(NOW.timestamp() - 30)
NOISE_TOPIC = measure_topic(APIKEY, "noise-001")


def _process(pipeline: MeasurePipeline, topic: str, body: object) -> tuple[list, list]:
    outcome = pipeline.process(topic, json.dumps(body).encode(), NOW)
    return list(outcome.readings), list(outcome.dead_letters)


def test_a_noise_measure_becomes_readings_of_its_entity(pipeline: MeasurePipeline) -> None:
    readings, dead = _process(pipeline, NOISE_TOPIC, {"t": STAMP, "laeq": 61.5, "lamax": 72})
    assert dead == []
    by_attr = {r.attr: r for r in readings if r.entity_type == "NoiseLevelObserved"}
    assert set(by_attr) == {"LAeq", "LAmax", "dateObservedFrom", "dateObservedTo"}
    (heartbeat,) = [r for r in readings if r.entity_type == "Device"]
    assert heartbeat.entity_id == f"urn:ngsi-ld:Device:{TENANT}:noise-001"
    assert (heartbeat.attr, heartbeat.value) == ("dateLastValueReported", "2026-11-22T09:59:30Z")
    laeq = by_attr["LAeq"]
    assert laeq.entity_id == f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:noise-001"
    assert laeq.tenant == TENANT
    assert (laeq.value, laeq.unit_code) == (61.5, "2N")
    assert laeq.observed_at == NOW - timedelta(seconds=30)
    # The observation period ends at the observation time and lasts the device's period.
    assert by_attr["dateObservedTo"].value == "2026-11-22T09:59:30Z"
    assert by_attr["dateObservedFrom"].value == "2026-11-22T09:58:30Z"
    assert not by_attr["dateObservedTo"].in_history
    assert by_attr["LAeq"].value_type is ValueType.NUMBER


def test_each_node_kind_is_accepted(pipeline: MeasurePipeline) -> None:
    measures = {
        "air-001": {
            "t": STAMP,
            "pm25": 12.0,
            "pm10": 20.0,
            "no2": 40.0,
            "o3": 60.0,
            "tmp": 8.5,
            "rh": 70,
        },
        "parking-001": {"t": STAMP, "st": "free"},
        "streetlight-001": {"t": STAMP, "on": "on", "dim": 50, "w": 35.2},
    }
    for device_id, body in measures.items():
        readings, dead = _process(pipeline, measure_topic(APIKEY, device_id), body)
        assert dead == [], dead
        assert readings


def test_a_backlog_array_keeps_good_measures_and_dead_letters_bad_ones(
    pipeline: MeasurePipeline,
) -> None:
    backlog = [
        {"t": format_time(NOW.timestamp() - 120), "laeq": 50.0},
        {"t": format_time(NOW.timestamp() - 60), "laeq": 999.0},
        {"t": format_time(NOW.timestamp() - 0), "laeq": 52.0},
    ]
    outcome = pipeline.process(NOISE_TOPIC, encode_measures(backlog), NOW)
    assert sorted(r.value for r in outcome.readings if r.attr == "LAeq") == [50.0, 52.0]
    assert [d.reason for d in outcome.dead_letters] == ["out_of_range"]
    letter = outcome.dead_letters[0]
    assert json.loads(letter.payload) == backlog[1]
    assert (letter.tenant, letter.device_id) == (TENANT, "noise-001")
    assert [e.entity_type for e in outcome.entities] == ["NoiseLevelObserved", "Device"]


@pytest.mark.parametrize(
    ("topic", "body", "reason"),
    [
        (measure_topic(APIKEY, "noise-999"), {"t": STAMP, "laeq": 50}, "unknown_device"),
        (measure_topic("nokey", "noise-001"), {"t": STAMP, "laeq": 50}, "unknown_apikey"),
        ("/json/k/d/other", {"t": STAMP}, "bad_topic"),
        (NOISE_TOPIC, {"laeq": 50}, "missing_time"),
        (NOISE_TOPIC, {"t": "2026-11-22 10:00", "laeq": 50}, "bad_time"),
        (NOISE_TOPIC, {"t": "2026-11-22T11:00:00Z", "laeq": 50}, "time_in_future"),
        (NOISE_TOPIC, {"t": "2025-01-01T00:00:00Z", "laeq": 50}, "time_too_old"),
        (NOISE_TOPIC, {"t": STAMP, "laeq": 50, "volume": 11}, "unknown_attribute"),
        (NOISE_TOPIC, {"t": STAMP}, "no_values"),
        (NOISE_TOPIC, {"t": STAMP, "laeq": "loud"}, "bad_value"),
        (measure_topic(APIKEY, "parking-001"), {"t": STAMP, "st": "parked"}, "bad_value"),
    ],
)
def test_refused_input_is_dead_lettered_with_its_reason(
    pipeline: MeasurePipeline, topic: str, body: object, reason: str
) -> None:
    readings, dead = _process(pipeline, topic, body)
    assert readings == []
    assert [d.reason for d in dead] == [reason]
    assert dead[0].detail
    assert dead[0].topic == topic


def test_undecodable_payload_is_kept_verbatim_in_the_dead_letter(
    pipeline: MeasurePipeline,
) -> None:
    outcome = pipeline.process(NOISE_TOPIC, b"\x00garbage{", NOW)
    assert [d.reason for d in outcome.dead_letters] == ["bad_json"]
    assert outcome.dead_letters[0].payload == "\x00garbage{"
    assert outcome.entities == ()


@pytest.mark.parametrize(
    ("topic", "payload", "sender"),
    [
        (NOISE_TOPIC, b"{truncated", (TENANT, "noise-001")),
        (f"/json/{APIKEY}/noise-001/status", b"sleepy", (TENANT, "noise-001")),
        (f"/json/{APIKEY}/noise-001/cmdexe", b"not json", (TENANT, "noise-001")),
        (measure_topic(APIKEY, "ghost"), b"{}", (TENANT, None)),
        (measure_topic("nobodys-key", "x"), b"{}", (None, None)),
    ],
)
def test_a_refused_message_names_the_tenant_its_topic_belongs_to(
    pipeline: MeasurePipeline, topic: str, payload: bytes, sender: tuple[str | None, str | None]
) -> None:
    """Issue 16, item 10: whole-message refusals had tenant None, seen by no tenant."""
    (letter,) = pipeline.process(topic, payload, NOW).dead_letters
    assert (letter.tenant, letter.device_id) == sender


def test_ultralight_measures_are_typed_by_the_attribute_mapping(
    pipeline: MeasurePipeline,
) -> None:
    from capture import ultralight_topic

    t1, t2 = format_time(NOW.timestamp() - 20), format_time(NOW.timestamp() - 10)
    payload = f"t|{t1}|laeq|55.5|lamax|61#t|{t2}|laeq|56".encode()
    outcome = pipeline.process(ultralight_topic(APIKEY, "noise-001"), payload, NOW)
    assert outcome.dead_letters == ()
    assert sorted(r.value for r in outcome.readings if r.attr == "LAeq") == [55.5, 56.0]
    spot = pipeline.process(
        ultralight_topic(APIKEY, "parking-001"), f"t|{t1}|st|free".encode(), NOW
    )
    assert [r.value for r in spot.readings if r.attr == "status"] == ["free"]


def test_legacy_topic_takes_json_or_ultralight_by_its_payload(pipeline: MeasurePipeline) -> None:
    legacy = f"/{APIKEY}/noise-001/attrs"
    as_json = pipeline.process(legacy, json.dumps({"t": STAMP, "laeq": 50}).encode(), NOW)
    as_ul = pipeline.process(legacy, f"t|{STAMP}|laeq|50".encode(), NOW)
    assert [r.value for r in as_json.readings if r.attr == "LAeq"] == [50.0]
    assert [r.value for r in as_ul.readings if r.attr == "LAeq"] == [50.0]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"t|2026-11-22T09:59:00Z|laeq", "bad_ultralight"),
        (b"t|2026-11-22T09:59:00Z|laeq|loud", "bad_value"),
        (b"t|2026-11-22T09:59:00Z||55", "bad_ultralight"),
        (b"t|2026-11-22T09:59:00Z|laeq|1|laeq|2", "bad_ultralight"),
        (b"\xff\xfe", "bad_ultralight"),
    ],
)
def test_malformed_ultralight_is_dead_lettered(
    pipeline: MeasurePipeline, payload: bytes, reason: str
) -> None:
    outcome = pipeline.process(f"/ul/{APIKEY}/noise-001/attrs", payload, NOW)
    assert [d.reason for d in outcome.dead_letters] == [reason]


def test_two_measures_with_the_same_time_in_one_message_are_a_duplicate(
    pipeline: MeasurePipeline,
) -> None:
    backlog = [{"t": STAMP, "laeq": 50.0}, {"t": STAMP, "laeq": 51.0}]
    outcome = pipeline.process(NOISE_TOPIC, encode_measures(backlog), NOW)
    assert [r.value for r in outcome.readings if r.attr == "LAeq"] == [50.0]
    assert [d.reason for d in outcome.dead_letters] == ["duplicate"]


def test_device_information_goes_to_the_device_entity(pipeline: MeasurePipeline) -> None:
    body = {"t": STAMP, "laeq": 50.0, "fw": "0.1.0", "bat": 80, "rssi": -70}
    readings, dead = _process(pipeline, NOISE_TOPIC, body)
    assert dead == []
    device = {r.attr: r.value for r in readings if r.entity_type == "Device"}
    assert device == {
        "firmwareVersion": "0.1.0",
        "batteryLevel": 0.8,
        "rssi": -70.0,
        "dateLastValueReported": "2026-11-22T09:59:30Z",
    }
    only_info, dead = _process(pipeline, NOISE_TOPIC, {"t": STAMP, "rssi": -80})
    assert dead == []
    assert {r.entity_type for r in only_info} == {"Device"}


def test_status_topic_sets_the_device_state(pipeline: MeasurePipeline) -> None:
    outcome = pipeline.process(f"/json/{APIKEY}/noise-001/status", b"offline", NOW)
    (reading,) = outcome.readings
    assert (reading.entity_type, reading.attr, reading.value) == (
        "Device",
        "deviceState",
        "offline",
    )
    assert reading.observed_at == NOW
    assert [e.entity_type for e in outcome.entities] == ["Device"]
    bad = pipeline.process(f"/json/{APIKEY}/noise-001/status", b"sleepy", NOW)
    assert [d.reason for d in bad.dead_letters] == ["bad_status"]
    ghost = pipeline.process(f"/json/{APIKEY}/ghost/status", b"online", NOW)
    assert [d.reason for d in ghost.dead_letters] == ["unknown_device"]
