"""Pure payload codecs for LoRaWAN devices: Cayenne LPP and declarative byte layouts.

Bytes in, values out (and back for downlinks); no IO. A payload that does not
fit its codec raises ``CodecError``, which names the byte offset where decoding
stopped, so the dead letter says exactly where a device's firmware and its
registry entry disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from acquisition.lorawan.profile import LayoutField
from support import PayloadError

CODEC_ERROR = "codec_error"


class CodecError(PayloadError):
    """A payload that does not decode (or a value that does not encode) at ``offset``."""

    def __init__(self, offset: int, detail: str) -> None:
        super().__init__(CODEC_ERROR, f"byte {offset}: {detail}")
        self.offset = offset


def _int(data: bytes, offset: int, size: int, signed: bool, little: bool = False) -> int:
    if offset + size > len(data):
        raise CodecError(offset, f"needs {size} byte(s), payload has {len(data)}")
    return int.from_bytes(
        data[offset : offset + size], "little" if little else "big", signed=signed
    )


@dataclass(frozen=True, slots=True)
class _LppType:
    """One IPSO-derived Cayenne LPP data type: its name, its size and how to read it."""

    name: str
    size: int
    read: Callable[[bytes, int], float | dict[str, float]]


def _scalar(size: int, signed: bool, resolution: float) -> Callable[[bytes, int], float]:
    return lambda data, at: round(_int(data, at, size, signed) * resolution, 6)


def _axes(size: int, resolutions: Mapping[str, float]) -> Callable[[bytes, int], dict[str, float]]:
    def read(data: bytes, at: int) -> dict[str, float]:
        return {
            axis: round(_int(data, at + i * size, size, True) * resolution, 6)
            for i, (axis, resolution) in enumerate(resolutions.items())
        }

    return read


# Cayenne LPP 1.0 types (docs.mydevices.com "Cayenne Low Power Payload"); names as in
# The Things Stack's CayenneLPP formatter, e.g. temperature_1.
LPP_TYPES: Mapping[int, _LppType] = {
    0: _LppType("digital_in", 1, _scalar(1, False, 1)),
    1: _LppType("digital_out", 1, _scalar(1, False, 1)),
    2: _LppType("analog_in", 2, _scalar(2, True, 0.01)),
    3: _LppType("analog_out", 2, _scalar(2, True, 0.01)),
    101: _LppType("luminosity", 2, _scalar(2, False, 1)),
    102: _LppType("presence", 1, _scalar(1, False, 1)),
    103: _LppType("temperature", 2, _scalar(2, True, 0.1)),
    104: _LppType("relative_humidity", 1, _scalar(1, False, 0.5)),
    113: _LppType("accelerometer", 6, _axes(2, {"x": 0.001, "y": 0.001, "z": 0.001})),
    115: _LppType("barometric_pressure", 2, _scalar(2, False, 0.1)),
    134: _LppType("gyrometer", 6, _axes(2, {"x": 0.01, "y": 0.01, "z": 0.01})),
    136: _LppType("gps", 9, _axes(3, {"latitude": 0.0001, "longitude": 0.0001, "altitude": 0.01})),
}


def decode_cayenne(data: bytes) -> dict[str, float]:
    """``channel, type, value...`` repeated -> ``{"temperature_1": 21.5, ...}``.

    Several-valued types (accelerometer, gyrometer, GPS) give one key per axis,
    ``gps_4_latitude``; a channel repeated with the same type is refused rather
    than letting the later value silently win.
    """
    values: dict[str, float] = {}
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise CodecError(at, "a channel without a type")
        channel, kind = data[at], data[at + 1]
        lpp = LPP_TYPES.get(kind)
        if lpp is None:
            raise CodecError(at + 1, f"unknown Cayenne LPP type {kind}")
        key = f"{lpp.name}_{channel}"
        if key in values or any(k.startswith(key + "_") for k in values):
            raise CodecError(at, f"{key} twice in one payload")
        read = lpp.read(data, at + 2)
        if isinstance(read, dict):
            values.update({f"{key}_{axis}": value for axis, value in read.items()})
        else:
            values[key] = read
        at += 2 + lpp.size
    if not values:
        raise CodecError(0, "empty payload")
    return values


def decode_layout(data: bytes, fields: Sequence[LayoutField]) -> dict[str, float | str]:
    """Each field read at its offset, scaled or looked up in its enumeration."""
    values: dict[str, float | str] = {}
    for spec in fields:
        raw = _int(data, spec.offset, spec.size, spec.signed, spec.endian == "little")
        if spec.values:
            if not 0 <= raw < len(spec.values):
                raise CodecError(spec.offset, f"{spec.name}={raw} has no name in its values")
            values[spec.name] = spec.values[raw]
        else:
            values[spec.name] = round(raw * spec.scale, 9)
    return values


def _raw_of(spec: LayoutField, value: object) -> int:
    if spec.values:
        if not isinstance(value, str) or value not in spec.values:
            raise CodecError(spec.offset, f"{spec.name}={value!r:.40} not one of its values")
        return spec.values.index(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CodecError(spec.offset, f"{spec.name} must be a number, got {value!r:.40}")
    return round(value / spec.scale)


def encode_layout(value: object, fields: Sequence[LayoutField]) -> bytes:
    """A command value (one scalar for a one-field layout, else an object by field name)
    -> the payload bytes; a value that does not fit its field is refused, not wrapped."""
    if not fields:
        raise CodecError(0, "the command has no downlink layout")
    by_name = value if isinstance(value, Mapping) else {fields[0].name: value}
    if not isinstance(value, Mapping) and len(fields) != 1:
        raise CodecError(0, "a layout of several fields takes an object")
    out = bytearray(max(f.offset + f.size for f in fields))
    for spec in fields:
        if spec.name not in by_name:
            raise CodecError(spec.offset, f"the command lacks {spec.name}")
        raw = _raw_of(spec, by_name[spec.name])
        try:
            chunk = raw.to_bytes(spec.size, spec.endian, signed=spec.signed)
        except OverflowError:
            raise CodecError(spec.offset, f"{spec.name}={raw} does not fit {spec.type}") from None
        out[spec.offset : spec.offset + spec.size] = chunk
    return bytes(out)
