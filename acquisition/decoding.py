"""Pure decoders for device topics and FIWARE IoT Agent JSON payloads (bytes in, values out)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from support import PayloadError

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_MEASURES_PER_MESSAGE = 10_000


@dataclass(frozen=True, slots=True)
class TopicAddress:
    """Who sent a measure message, read from its topic."""

    apikey: str
    device_id: str


def parse_measure_topic(topic: str) -> TopicAddress:
    """``/json/<apikey>/<device>/attrs`` or the legacy ``/<apikey>/<device>/attrs``."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[0] == "" and parts[1] == "json" and parts[4] == "attrs":
        apikey, device_id = parts[2], parts[3]
    elif len(parts) == 4 and parts[0] == "" and parts[3] == "attrs":
        apikey, device_id = parts[1], parts[2]
    else:
        raise PayloadError("bad_topic", f"not a measure topic: {topic!r}")
    if not apikey or not device_id:
        raise PayloadError("bad_topic", f"empty apikey or device id in {topic!r}")
    return TopicAddress(apikey, device_id)


def decode_json_measures(payload: bytes) -> list[dict[str, object]]:
    """One JSON object -> one measure; a JSON array of objects -> a backlog of measures."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError("bad_json", str(exc)) from None
    items = body if isinstance(body, list) else [body]
    if not items:
        raise PayloadError("bad_shape", "empty measure array")
    if len(items) > MAX_MEASURES_PER_MESSAGE:
        raise PayloadError("too_large", f"{len(items)} measures > {MAX_MEASURES_PER_MESSAGE}")
    for item in items:
        if not isinstance(item, dict):
            raise PayloadError("bad_shape", f"a measure must be a JSON object, got {item!r:.60}")
    return items


def parse_observation_time(raw: object) -> datetime:
    """RFC 3339 time with an explicit offset; naive or malformed times are refused."""
    if not isinstance(raw, str):
        raise PayloadError("bad_time", f"time must be an RFC 3339 string, got {raw!r:.40}")
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        raise PayloadError("bad_time", f"unparsable time {raw!r:.40}") from None
    if stamp.tzinfo is None:
        raise PayloadError("bad_time", f"time without timezone {raw!r:.40}")
    return stamp
