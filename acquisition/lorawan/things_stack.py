"""The Things Stack v3 MQTT server: topics and messages -> records (pure).

Topics: ``v3/<application id>[@<tenant>]/devices/<device id>/<up|join|down/...>``;
downlinks are pushed to ``.../down/push``. Shapes:
https://www.thethingsindustries.com/docs/integrations/data-formats/ and
https://www.thethingsindustries.com/docs/integrations/other-integrations/mqtt/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from acquisition.lorawan.events import (
    DeviceRef,
    DownlinkEvent,
    DownlinkOutcome,
    Join,
    LorawanEvent,
    Uplink,
    base64_bytes,
    best_signal,
    command_of_correlation,
    counter,
    decoded_object,
    event_time,
    load_object,
    member,
    required,
)
from support import PayloadError

_DOWN = {
    "down/sent": ("downlink_sent", DownlinkOutcome.SENT),
    "down/ack": ("downlink_ack", DownlinkOutcome.ACKED),
    "down/nack": ("downlink_nack", DownlinkOutcome.NACKED),
    "down/failed": ("downlink_failed", DownlinkOutcome.FAILED),
}
FILTERS = ("v3/+/devices/+/up", "v3/+/devices/+/join", *(f"v3/+/devices/+/{d}" for d in _DOWN))


def is_things_stack(topic: str) -> bool:
    return topic.startswith("v3/")


def downlink_topic(application: str, device_id: str) -> str:
    return f"v3/{application}/devices/{device_id}/down/push"


def parse_event(topic: str, payload: bytes) -> tuple[str, LorawanEvent]:
    """(application[@tenant], event); PayloadError for anything malformed."""
    parts = topic.split("/", 4)
    if len(parts) != 5 or parts[0] != "v3" or parts[2] != "devices":
        raise PayloadError("bad_topic", f"not a The Things Stack topic: {topic!r:.120}")
    body = load_object(payload)
    device_id = str(required(body, "end_device_ids", "device_id"))
    if device_id != parts[3]:
        raise PayloadError(
            "bad_shape", f"end_device_ids.device_id {device_id!r:.40} not the topic's"
        )
    eui = member(body, "end_device_ids", "dev_eui")
    device = DeviceRef(str(eui).lower() if eui else None, device_id)
    kind = parts[4]
    if kind == "up":
        return parts[1], _uplink(device, body)
    if kind == "join":
        session = required(body, "join_accept", "session_key_id")
        return parts[1], Join(device, event_time(body, "received_at"), str(session))
    if kind in _DOWN:
        key, outcome = _DOWN[kind]
        message = required(body, key)
        ids = member(message, "correlation_ids") or member(body, "correlation_ids")
        return parts[1], DownlinkEvent(
            device, event_time(body, "received_at"), outcome, command_of_correlation(ids)
        )
    raise PayloadError("bad_topic", f"not an event we subscribe to: {kind!r:.40}")


def _uplink_id(body: Mapping[str, Any], message: Mapping[str, Any]) -> str:
    for item in member(body, "correlation_ids") or ():
        if isinstance(item, str) and item.startswith("as:up:"):
            return item
    # No application-server correlation id: the frame's own coordinates identify it.
    return f"{member(message, 'session_key_id')}:{member(message, 'f_cnt')}"


def _uplink(device: DeviceRef, body: Mapping[str, Any]) -> Uplink:
    message = required(body, "uplink_message")
    if not isinstance(message, Mapping):
        raise PayloadError("bad_shape", "uplink_message must be an object")
    rssi, snr = best_signal(member(message, "rx_metadata"))
    session = member(message, "session_key_id") or member(body, "end_device_ids", "dev_addr")
    return Uplink(
        device=device,
        uplink_id=_uplink_id(body, message),
        session=str(session or ""),
        time=event_time(body, "received_at"),
        f_cnt=counter(message, "f_cnt", default=0),
        f_port=counter(message, "f_port", default=0),
        decoded=decoded_object(member(message, "decoded_payload"), "decoded_payload"),
        data=base64_bytes(member(message, "frm_payload"), "frm_payload"),
        rssi=rssi,
        snr=snr,
    )
