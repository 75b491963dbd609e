"""FIWARE IoT Agent JSON: one object per measure, or an array of them (a backlog)."""

from __future__ import annotations

import json

from acquisition.formats.limits import MAX_MEASURES_PER_MESSAGE, MAX_PAYLOAD_BYTES
from support import PayloadError


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
