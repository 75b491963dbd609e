"""Pure decoders for device topics and observation times (strings in, values out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from support import PayloadError

PROTOCOLS = ("json", "ul")


@dataclass(frozen=True, slots=True)
class TopicAddress:
    """Who sent a measure message, read from its topic, and in which payload format.

    ``protocol`` is None for the legacy topic without a prefix: the payload tells.
    """

    apikey: str
    device_id: str
    protocol: str | None = None


def parse_measure_topic(topic: str) -> TopicAddress:
    """``/<json|ul>/<apikey>/<device>/attrs`` or the legacy ``/<apikey>/<device>/attrs``."""
    parts = topic.split("/")
    protocol = None
    if len(parts) == 5 and parts[0] == "" and parts[1] in PROTOCOLS and parts[4] == "attrs":
        protocol, apikey, device_id = parts[1], parts[2], parts[3]
    elif len(parts) == 4 and parts[0] == "" and parts[3] == "attrs":
        apikey, device_id = parts[1], parts[2]
    else:
        raise PayloadError("bad_topic", f"not a measure topic: {topic!r}")
    if not apikey or not device_id:
        raise PayloadError("bad_topic", f"empty apikey or device id in {topic!r}")
    return TopicAddress(apikey, device_id, protocol)


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
