"""What the network servers tell us, as typed records; pure helpers shared by their readers.

``chirpstack.py`` and ``things_stack.py`` turn each server's MQTT topic and JSON
into these records; everything after them (deduplication, codecs, readings)
is the same for both.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from acquisition.normalise.decoding import parse_observation_time
from support import PayloadError

# Command ids travel in ChirpStack's queue item id (a UUID we choose) and in The Things
# Stack's correlation ids, so that ack/txack events find their command again.
_COMMAND_UUID_PREFIX = 0x6369756461640000  # "ciudad\0\0"
COMMAND_CORRELATION = "ciudad:command:"


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """How an event names its device: a devEUI and/or The Things Stack's device id."""

    dev_eui: str | None
    ttn_device_id: str | None = None


@dataclass(frozen=True, slots=True)
class Uplink:
    """One uplink frame, after the network server's own deduplication across gateways."""

    device: DeviceRef
    uplink_id: str  # deduplicationId / the "as:up:" correlation id: one per frame
    session: str  # devAddr or session key id: a new one after each (re)join
    time: datetime
    f_cnt: int
    f_port: int
    decoded: Mapping[str, object] | None
    data: bytes
    rssi: float | None
    snr: float | None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The device's answer to a DevStatusReq: battery and demodulation margin."""

    device: DeviceRef
    time: datetime
    battery_percent: float | None
    margin_db: int | None


@dataclass(frozen=True, slots=True)
class Join:
    device: DeviceRef
    time: datetime
    session: str


class DownlinkOutcome(StrEnum):
    SENT = "sent"  # the gateway took it (txack; The Things Stack's down/sent)
    ACKED = "acked"  # the device confirmed a confirmed downlink
    NACKED = "nacked"  # the confirmation never came, or the device refused it
    FAILED = "failed"  # the server could not schedule it


@dataclass(frozen=True, slots=True)
class DownlinkEvent:
    device: DeviceRef
    time: datetime
    outcome: DownlinkOutcome
    command_id: int | None  # None: a downlink someone else queued


LorawanEvent = Uplink | StatusReport | Join | DownlinkEvent


def command_queue_id(command_id: int) -> str:
    """The ChirpStack queue item id (UUID) carrying a command's id."""
    return str(uuid.UUID(int=(_COMMAND_UUID_PREFIX << 64) | command_id))


def command_of_queue_id(queue_item_id: object) -> int | None:
    try:
        value = uuid.UUID(str(queue_item_id)).int
    except ValueError:
        return None
    return value & (2**64 - 1) if value >> 64 == _COMMAND_UUID_PREFIX else None


def command_of_correlation(ids: object) -> int | None:
    for item in ids if isinstance(ids, list) else ():
        if isinstance(item, str) and item.startswith(COMMAND_CORRELATION):
            tail = item[len(COMMAND_CORRELATION) :]
            if tail.isdigit():
                return int(tail)
    return None


def load_object(payload: bytes) -> dict[str, Any]:
    try:
        body = json.loads(payload)
    except ValueError:
        raise PayloadError("bad_json", "the event is not JSON") from None
    if not isinstance(body, dict):
        raise PayloadError("bad_shape", "the event must be a JSON object")
    return body


def member(body: Mapping[str, Any], *path: str) -> Any:
    """``body[a][b]...``, None when any step is missing or not an object."""
    node: Any = body
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def required(body: Mapping[str, Any], *path: str) -> Any:
    value = member(body, *path)
    if value is None:
        raise PayloadError("bad_shape", f"the event lacks {'.'.join(path)}")
    return value


def counter(body: Mapping[str, Any], *path: str, default: int | None = None) -> int:
    """A frame counter or port; JSON from protobuf leaves zeros out, hence the default."""
    value = member(body, *path)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PayloadError("bad_shape", f"{'.'.join(path)} must be a counter, got {value!r:.30}")
    return value


def event_time(body: Mapping[str, Any], *path: str) -> datetime:
    return parse_observation_time(required(body, *path))


def base64_bytes(value: object, name: str) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str):
        raise PayloadError("bad_shape", f"{name} must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise PayloadError("bad_base64", f"{name} is not base64: {value!r:.40}") from None


def decoded_object(value: object, name: str) -> Mapping[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PayloadError("bad_shape", f"{name} must be an object")
    return value


def best_signal(rx_info: object) -> tuple[float | None, float | None]:
    """(RSSI, SNR) of the gateway that heard the frame best (highest RSSI)."""
    best: tuple[float | None, float | None] = (None, None)
    for rx in rx_info if isinstance(rx_info, list) else ():
        rssi, snr = member(rx, "rssi"), member(rx, "snr")
        usable = isinstance(rssi, int | float) and not isinstance(rssi, bool)
        if usable and (best[0] is None or rssi > best[0]):
            best = (float(rssi), float(snr) if isinstance(snr, int | float) else None)
    return best
