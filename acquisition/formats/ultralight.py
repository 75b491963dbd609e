"""FIWARE UltraLight 2.0: ``key|value|key|value``, several measures separated by ``#``.

Values are text on the wire; the attribute mapping gives them their type
(``textual`` measures, see AttributeSpec.convert_text).
"""

from __future__ import annotations

from acquisition.formats.limits import MAX_MEASURES_PER_MESSAGE, MAX_PAYLOAD_BYTES
from support import PayloadError


def decode_ultralight(payload: bytes) -> list[dict[str, object]]:
    """``t|2026-11-22T10:00:00Z|laeq|55.1#t|...`` -> one dict of strings per measure."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise PayloadError("bad_ultralight", f"not UTF-8: {exc}") from None
    if not text:
        raise PayloadError("bad_shape", "empty UltraLight payload")
    groups = text.split("#")
    if len(groups) > MAX_MEASURES_PER_MESSAGE:
        raise PayloadError("too_large", f"{len(groups)} measures > {MAX_MEASURES_PER_MESSAGE}")
    return [_measure(group) for group in groups]


def _measure(group: str) -> dict[str, object]:
    fields = group.strip().split("|")
    if len(fields) % 2:
        raise PayloadError("bad_ultralight", f"odd number of fields in {group!r:.60}")
    measure: dict[str, object] = {}
    for key, value in zip(fields[::2], fields[1::2], strict=True):
        if not key:
            raise PayloadError("bad_ultralight", f"empty attribute name in {group!r:.60}")
        if key in measure:
            raise PayloadError("bad_ultralight", f"attribute {key!r:.30} repeated")
        measure[key] = value
    return measure
