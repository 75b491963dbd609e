"""The device wire protocol (FIWARE IoT Agent JSON conventions), pure functions only.

Measures travel on ``/json/<apikey>/<device_id>/attrs`` as one JSON object or,
for a buffered backlog, as a JSON array of objects.  Every measure carries its
own observation time under the short name ``t`` (RFC 3339, UTC).  Commands go
down on ``/<apikey>/<device_id>/cmd``; results come back on
``/json/<apikey>/<device_id>/cmdexe``.  The legacy measure topic without the
``/json`` prefix is also accepted by the gateway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

TIME_KEY = "t"
MEASURE_TOPIC_FILTERS = ("/json/+/+/attrs", "/ul/+/+/attrs", "/+/+/attrs")

Measure = Mapping[str, object]


def measure_topic(apikey: str, device_id: str) -> str:
    """Topic a device publishes its measures to."""
    return f"/json/{apikey}/{device_id}/attrs"


def ultralight_topic(apikey: str, device_id: str) -> str:
    """Topic for measures in UltraLight 2.0 text."""
    return f"/ul/{apikey}/{device_id}/attrs"


def command_topic(apikey: str, device_id: str) -> str:
    """Topic a device listens on for commands (no protocol prefix, as in the IoT Agent)."""
    return f"/{apikey}/{device_id}/cmd"


def format_time(epoch_s: float) -> str:
    """RFC 3339 UTC time with milliseconds, as devices put it under ``t``."""
    stamp = datetime.fromtimestamp(epoch_s, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def encode_measures(measures: Measure | Sequence[Measure]) -> bytes:
    """One measure -> one JSON object; several -> a JSON array (a backlog)."""
    body: object = dict(measures) if isinstance(measures, Mapping) else [dict(m) for m in measures]
    return json.dumps(body, separators=(",", ":")).encode()
