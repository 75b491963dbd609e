"""ChirpStack v4 MQTT integration, JSON marshaler: topics and events -> records (pure).

Topics (the default ``event_topic`` template): ``application/<application id>/
device/<devEUI>/event/<up|status|join|ack|txack>``; downlinks go to
``application/<application id>/device/<devEUI>/command/down``. Shapes:
https://www.chirpstack.io/docs/chirpstack/integrations/events.html and
https://www.chirpstack.io/docs/chirpstack/integrations/mqtt.html
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from acquisition.lorawan.events import (
    DeviceRef,
    DownlinkEvent,
    DownlinkOutcome,
    Join,
    LorawanEvent,
    StatusReport,
    Uplink,
    base64_bytes,
    best_signal,
    command_of_queue_id,
    counter,
    decoded_object,
    event_time,
    load_object,
    member,
    required,
)
from support import PayloadError

EVENTS = ("up", "status", "join", "ack", "txack")
FILTERS = tuple(f"application/+/device/+/event/{e}" for e in EVENTS)


def is_chirpstack(topic: str) -> bool:
    return topic.startswith("application/")


def downlink_topic(application_id: str, dev_eui: str) -> str:
    return f"application/{application_id}/device/{dev_eui}/command/down"


def parse_event(topic: str, payload: bytes) -> tuple[str, LorawanEvent]:
    """(application id, event); PayloadError for what is not one of our events."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[2] != "device" or parts[4] != "event" or parts[5] not in EVENTS:
        raise PayloadError("bad_topic", f"not a ChirpStack event topic: {topic!r:.120}")
    body = load_object(payload)
    topic_eui = parts[3].lower()
    dev_eui = str(required(body, "deviceInfo", "devEui")).lower()
    if dev_eui != topic_eui:
        raise PayloadError("bad_shape", f"deviceInfo.devEui {dev_eui} is not the topic's")
    return parts[1], _READERS[parts[5]](DeviceRef(dev_eui), body)


def _uplink(device: DeviceRef, body: Mapping[str, Any]) -> Uplink:
    rssi, snr = best_signal(member(body, "rxInfo"))
    return Uplink(
        device=device,
        uplink_id=str(required(body, "deduplicationId")),
        session=str(member(body, "devAddr") or ""),
        time=event_time(body, "time"),
        f_cnt=counter(body, "fCnt", default=0),
        f_port=counter(body, "fPort", default=0),
        decoded=decoded_object(member(body, "object"), "object"),
        data=base64_bytes(member(body, "data"), "data"),
        rssi=rssi,
        snr=snr,
    )


def _status(device: DeviceRef, body: Mapping[str, Any]) -> StatusReport:
    battery = member(body, "batteryLevel")
    if member(body, "batteryLevelUnavailable") or member(body, "externalPowerSource"):
        battery = None  # mains powered or unknown: no level to report
    elif battery is None:
        battery = 0.0  # protobuf JSON leaves a zero out
    if battery is not None and not isinstance(battery, int | float):
        raise PayloadError("bad_shape", "batteryLevel must be a number")
    margin = member(body, "margin")
    margin = 0 if margin is None else margin  # protobuf JSON leaves a zero out
    if isinstance(margin, bool) or not isinstance(margin, int):
        raise PayloadError("bad_shape", "margin must be an integer (dB)")
    return StatusReport(
        device, event_time(body, "time"), None if battery is None else float(battery), margin
    )


def _join(device: DeviceRef, body: Mapping[str, Any]) -> Join:
    return Join(device, event_time(body, "time"), str(required(body, "devAddr")))


def _ack(device: DeviceRef, body: Mapping[str, Any]) -> DownlinkEvent:
    acked = member(body, "acknowledged") is True
    return DownlinkEvent(
        device,
        event_time(body, "time"),
        DownlinkOutcome.ACKED if acked else DownlinkOutcome.NACKED,
        command_of_queue_id(required(body, "queueItemId")),
    )


def _txack(device: DeviceRef, body: Mapping[str, Any]) -> DownlinkEvent:
    return DownlinkEvent(
        device,
        event_time(body, "time"),
        DownlinkOutcome.SENT,
        command_of_queue_id(required(body, "queueItemId")),
    )


_READERS: dict[str, Callable[[DeviceRef, Mapping[str, Any]], LorawanEvent]] = {
    "up": _uplink,
    "status": _status,
    "join": _join,
    "ack": _ack,
    "txack": _txack,
}
