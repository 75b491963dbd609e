"""ChirpStack and The Things Stack events through the LoRaWAN pipeline (pure, no sockets)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from acquisition import (
    ENTITY_TYPES,
    EntityValidator,
    LorawanEntry,
    LorawanPipeline,
    MessageOutcome,
    TimePolicy,
    parse_provisioning,
)
from acquisition.lorawan.downlink import downlink
from acquisition.lorawan.events import command_of_queue_id, command_queue_id
from support import ConfigurationError
from tests.helpers.lorawan import (
    CAYENNE_EUI,
    CS_APP,
    LAMP_EUI,
    NOISE_EUI,
    PARKING_EUI,
    TTN_APP,
    TTN_DEVICE,
    cs_ack,
    cs_join,
    cs_status,
    cs_topic,
    cs_txack,
    cs_up,
    lorawan_document,
    recent,
    tts_down,
    tts_up,
)

NOISE = "urn:ngsi-ld:NoiseLevelObserved:leon:noise-lora-001"
PARKING = "urn:ngsi-ld:ParkingSpot:leon:parking-lora-001"


@pytest.fixture
def lora() -> LorawanPipeline:
    validator = EntityValidator({name: t.schema_file for name, t in ENTITY_TYPES.items()})
    policy = TimePolicy(max_future=timedelta(minutes=5), max_past=timedelta(days=30))
    return LorawanPipeline(parse_provisioning(lorawan_document()), validator, policy)


def run(pipeline: LorawanPipeline, message: tuple[str, bytes]) -> MessageOutcome:
    return pipeline.process(message[0], message[1], datetime.now(UTC))


def values(outcome: MessageOutcome, entity_id: str) -> dict[str, object]:
    return {r.attr: r.value for r in outcome.readings if r.entity_id == entity_id}


def test_a_decoded_chirpstack_uplink_becomes_readings_and_signal(lora: LorawanPipeline) -> None:
    outcome = run(lora, cs_up(NOISE_EUI, 42, recent(5), obj={"laeq": 55.2, "lamax": 63.1}))
    assert outcome.dead_letters == ()
    assert values(outcome, NOISE) | {"dateObservedFrom": None, "dateObservedTo": None} == {
        "LAeq": 55.2,
        "LAmax": 63.1,
        "dateObservedFrom": None,
        "dateObservedTo": None,
    }
    device = values(outcome, "urn:ngsi-ld:Device:leon:noise-lora-001")
    assert (device["rssi"], device["snr"]) == (-97.0, 7.5)  # the best of the two gateways


def test_undecoded_uplinks_go_through_the_registry_codec(lora: LorawanPipeline) -> None:
    parked = run(lora, cs_up(PARKING_EUI, 1, recent(5), data=bytes([1, 87])))
    assert values(parked, PARKING)["status"] == "occupied"
    assert values(parked, "urn:ngsi-ld:Device:leon:parking-lora-001")["batteryLevel"] == 0.87
    lpp = run(lora, cs_up(CAYENNE_EUI, 1, recent(5), data=bytes.fromhex("0102157C")))
    assert values(lpp, "urn:ngsi-ld:NoiseLevelObserved:leon:noise-lora-002")["LAeq"] == 55.0


def test_a_codec_error_is_a_dead_letter_with_the_byte_offset(lora: LorawanPipeline) -> None:
    outcome = run(lora, cs_up(PARKING_EUI, 1, recent(5), data=bytes([1])))
    (letter,) = outcome.dead_letters
    assert (letter.reason, letter.tenant, letter.device_id) == (
        "codec_error",
        "leon",
        "parking-lora-001",
    )
    assert letter.detail.startswith("byte 1:")


def test_duplicates_change_nothing_replays_are_refused_resets_are_counted(
    lora: LorawanPipeline,
) -> None:
    first = cs_up(NOISE_EUI, 10, recent(30), obj={"laeq": 50.0}, dedup="d-10")
    assert run(lora, first).readings
    again = run(lora, first)
    assert (again.readings, again.dead_letters) == ((), ())
    replayed = run(lora, cs_up(NOISE_EUI, 10, recent(20), obj={"laeq": 99.0}))
    assert [d.reason for d in replayed.dead_letters] == ["fcnt_replay"]
    assert run(lora, cs_up(NOISE_EUI, 11, recent(15), obj={"laeq": 51.0})).readings
    run(lora, cs_join(NOISE_EUI, recent(12), "01ab23cd"))
    reset = run(lora, cs_up(NOISE_EUI, 0, recent(10), obj={"laeq": 52.0}, dev_addr="01ab23cd"))
    assert values(reset, NOISE)["LAeq"] == 52.0
    counts = {str(k): v for k, v in lora.frames.counts.items()}
    assert counts == {"new": 2, "duplicate": 1, "replay": 1, "counter_reset": 1}


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ((cs_topic(NOISE_EUI, "up"), b"{not json"), "bad_json"),
        ((cs_topic(NOISE_EUI, "up"), b"[1, 2]"), "bad_shape"),
        (cs_up("ffffffffffffffff", 1, recent(5), obj={"laeq": 50.0}), "unknown_device"),
        (cs_up(NOISE_EUI, 1, recent(5)), "not_decoded"),
        (cs_up(NOISE_EUI, 1, recent(5), obj={"laeq": 500.0}), "out_of_range"),
        (cs_up(NOISE_EUI, 1, recent(5), obj={"colour": "red"}), "unknown_attribute"),
        ((cs_topic(NOISE_EUI, "up"), json.dumps({"deviceInfo": {"devEui": NOISE_EUI}}).encode()),
         "bad_shape"),
        ((f"application/{CS_APP}/device/{NOISE_EUI}/event/log", b"{}"), "bad_topic"),
    ],
)  # fmt: skip
def test_malformed_events_are_dead_letters_with_a_reason(
    lora: LorawanPipeline, message: tuple[str, bytes], reason: str
) -> None:
    (letter,) = run(lora, message).dead_letters
    assert letter.reason == reason


def test_bad_base64_is_named(lora: LorawanPipeline) -> None:
    topic, payload = cs_up(PARKING_EUI, 1, recent(5), data=b"\x01\x02")
    body = json.loads(payload) | {"data": "***"}
    (letter,) = run(lora, (topic, json.dumps(body).encode())).dead_letters
    assert letter.reason == "bad_base64"


def test_status_events_give_battery_margin_and_last_seen(lora: LorawanPipeline) -> None:
    outcome = run(lora, cs_status(NOISE_EUI, recent(5), battery=76.5, margin=-3))
    device = values(outcome, "urn:ngsi-ld:Device:leon:noise-lora-001")
    assert (device["batteryLevel"], device["margin"]) == (0.765, -3)
    assert "dateLastValueReported" in device


def test_the_things_stack_uplinks_decoded_and_not(lora: LorawanPipeline) -> None:
    decoded = run(lora, tts_up(7, recent(5), decoded={"laeq": 61.5}))
    assert values(decoded, "urn:ngsi-ld:NoiseLevelObserved:leon:noise-ttn-001")["LAeq"] == 61.5
    raw = run(lora, tts_up(8, recent(4), frm=b"\x01"))
    assert [d.reason for d in raw.dead_letters] == ["not_decoded"]  # no codec, none decoded


def test_downlink_events_complete_commands_by_id(lora: LorawanPipeline) -> None:
    queue_id = command_queue_id(1234)
    assert command_of_queue_id(queue_id) == 1234
    assert run(lora, cs_txack(LAMP_EUI, queue_id)).command_results == ()  # confirmed: wait
    (acked,) = run(lora, cs_ack(LAMP_EUI, queue_id, acknowledged=True)).command_results
    assert (acked.command_id, acked.status.value, acked.result) == (1234, "OK", "OK acknowledged")
    (nacked,) = run(lora, cs_ack(LAMP_EUI, queue_id, acknowledged=False)).command_results
    assert nacked.status.value == "ERROR"
    (ttn,) = run(lora, tts_down("down/failed", ["ciudad:command:9"])).command_results
    assert (ttn.command_id, ttn.status.value) == (9, "ERROR")
    foreign = run(lora, cs_ack(LAMP_EUI, "3b6f3a1e-57c4-4b36-9c1c-44ee3a7bd0b4", True))
    assert foreign == MessageOutcome((), (), ())


def test_downlinks_are_the_network_servers_messages() -> None:
    lamp = LorawanEntry.model_validate(lorawan_document()["devices"][4]["lorawan"])
    topic, payload = downlink(lamp, 5, "dim", 40)
    assert topic == f"application/{CS_APP}/device/{LAMP_EUI}/command/down"
    assert json.loads(payload) == {
        "id": command_queue_id(5),
        "devEui": LAMP_EUI,
        "confirmed": True,
        "fPort": 10,
        "data": "KA==",
    }
    ttn = lamp.model_copy(
        update={"network": "things_stack", "application": TTN_APP, "ttn_device_id": TTN_DEVICE}
    )
    topic, payload = downlink(ttn, 6, "dim", 40)
    assert topic == f"v3/{TTN_APP}/devices/{TTN_DEVICE}/down/push"
    (item,) = json.loads(payload)["downlinks"]
    assert (item["frm_payload"], item["f_port"], item["correlation_ids"]) == (
        "KA==",
        10,
        ["ciudad:command:6"],
    )


def test_a_dev_eui_names_one_device() -> None:
    document = lorawan_document()
    document["devices"][1]["lorawan"]["dev_eui"] = PARKING_EUI.upper()
    with pytest.raises(ConfigurationError, match=f"devEUI {PARKING_EUI} is both"):
        parse_provisioning(document)
    document["devices"][1]["lorawan"] = {"dev_eui": NOISE_EUI, "codec": "layout"}
    with pytest.raises(ConfigurationError, match="needs a non-empty 'layout'"):
        parse_provisioning(document)
