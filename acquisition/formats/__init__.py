"""Payload formats, one pure decoder module each, chosen from an explicit registry."""

from collections.abc import Callable

from acquisition.formats.json_format import decode_json_measures
from acquisition.formats.limits import MAX_MEASURES_PER_MESSAGE, MAX_PAYLOAD_BYTES
from acquisition.formats.ultralight import decode_ultralight

Decoder = Callable[[bytes], list[dict[str, object]]]
DECODERS: dict[str, Decoder] = {"json": decode_json_measures, "ul": decode_ultralight}


def sniff_protocol(payload: bytes) -> str:
    """For the legacy topic without a prefix: JSON starts with { or [, anything else is UL."""
    return "json" if payload.lstrip()[:1] in (b"{", b"[") else "ul"


__all__ = [
    "DECODERS",
    "MAX_MEASURES_PER_MESSAGE",
    "MAX_PAYLOAD_BYTES",
    "Decoder",
    "decode_json_measures",
    "decode_ultralight",
    "sniff_protocol",
]
