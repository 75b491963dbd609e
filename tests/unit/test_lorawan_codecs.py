"""LoRaWAN payload codecs (pure): Cayenne LPP, byte layouts, downlink encoding; CSV rows
with devEUIs."""

from __future__ import annotations

import pytest

from acquisition import (
    CodecError,
    LayoutField,
    decode_cayenne,
    decode_layout,
    devices_to_csv,
    encode_layout,
    parse_devices_csv,
)
from support import ConfigurationError


def test_cayenne_lpp_reads_the_reference_examples() -> None:
    # The Cayenne LPP 1.0 reference's examples: two temperatures, then an accelerometer.
    assert decode_cayenne(bytes.fromhex("03670110056700FF")) == {
        "temperature_3": 27.2,
        "temperature_5": 25.5,
    }
    assert decode_cayenne(bytes.fromhex("067104D2FB2E0000")) == {
        "accelerometer_6_x": 1.234,
        "accelerometer_6_y": -1.234,
        "accelerometer_6_z": 0.0,
    }


def test_cayenne_lpp_reads_signed_analog_humidity_and_gps() -> None:
    payload = bytes.fromhex("0102157C" + "0268" + "50" + "0188" + "06765F" + "F2960A" + "0003E8")
    assert decode_cayenne(payload) == {
        "analog_in_1": 55.0,
        "relative_humidity_2": 40.0,
        "gps_1_latitude": 42.3519,
        "gps_1_longitude": -87.9094,
        "gps_1_altitude": 10.0,
    }


@pytest.mark.parametrize(
    ("hex_payload", "offset", "words"),
    [
        ("0167", 2, "needs 2 byte"),  # a temperature cut short
        ("01FF0000", 1, "unknown Cayenne LPP type 255"),
        ("016701100167", 4, "temperature_1 twice"),
        ("01", 0, "a channel without a type"),
        ("", 0, "empty payload"),
    ],
)
def test_cayenne_lpp_errors_name_the_byte(hex_payload: str, offset: int, words: str) -> None:
    with pytest.raises(CodecError) as caught:
        decode_cayenne(bytes.fromhex(hex_payload))
    assert caught.value.offset == offset
    assert caught.value.reason == "codec_error"
    assert caught.value.detail.startswith(f"byte {offset}: ")
    assert words in caught.value.detail


LAYOUT = [
    LayoutField(name="st", offset=0, values=["free", "occupied"]),
    LayoutField(name="temp", offset=1, type="i16", scale=0.01),
    LayoutField(name="bat", offset=3, type="u16", endian="little", scale=0.1),
]


def test_a_byte_layout_scales_signs_and_names_values() -> None:
    assert decode_layout(bytes.fromhex("01FF38E803"), LAYOUT) == {
        "st": "occupied",
        "temp": -2.0,
        "bat": 100.0,
    }


def test_a_byte_layout_refuses_short_payloads_and_unnamed_values_at_their_offset() -> None:
    with pytest.raises(CodecError, match="byte 3: needs 2 byte"):
        decode_layout(bytes.fromhex("00FF38"), LAYOUT)
    with pytest.raises(CodecError, match="byte 0: st=2 has no name"):
        decode_layout(bytes.fromhex("02FF38E803"), LAYOUT)


def test_downlinks_encode_through_the_same_layout() -> None:
    dim = [LayoutField(name="dim", offset=0)]
    assert encode_layout(40, dim) == b"\x28"
    assert encode_layout({"st": "free", "temp": -2.0, "bat": 100}, LAYOUT) == bytes.fromhex(
        "00FF38E803"
    )
    with pytest.raises(CodecError, match="dim=300 does not fit u8"):
        encode_layout(300, dim)
    with pytest.raises(CodecError, match="must be a number"):
        encode_layout("bright", dim)
    with pytest.raises(CodecError, match="takes an object"):
        encode_layout(1, LAYOUT)


def test_csv_import_takes_dev_euis_and_round_trips() -> None:
    text = (
        "device_id,apikey,entity_type,longitude,latitude,dev_eui,lorawan\n"
        "noise-lora-001,leon-lora,NoiseLevelObserved,-5.5,42.6,70B3D57ED0050002,\n"
        'parking-lora-001,leon-lora,ParkingSpot,,,70b3d57ed0050001,"{""codec"": ""layout"", '
        '""layout"": [{""name"": ""st"", ""offset"": 0, ""values"": [""free"", ""occupied""]}]}"\n'
    )
    noise, parking = parse_devices_csv(text)
    assert noise.lorawan is not None
    assert (noise.lorawan.dev_eui, noise.lorawan.codec) == ("70b3d57ed0050002", "network")
    assert parking.lorawan is not None
    assert parking.lorawan.layout[0].values == ["free", "occupied"]
    assert parse_devices_csv(devices_to_csv([noise, parking])) == [noise, parking]
    with pytest.raises(ConfigurationError, match="line 2"):
        parse_devices_csv("device_id,apikey,entity_type,dev_eui\nx,k,ParkingSpot,nothex\n")
