"""History rows in PostgreSQL's binary COPY format, built while a batch is staged.

The format (PostgreSQL manual, COPY, "Binary Format"): a signature and header, then
per row a 16-bit field count and per field a 32-bit length (-1 for NULL) followed by
the value in network byte order, then a 16-bit -1. A ``timestamptz`` is microseconds
since 2000-01-01 UTC as a 64-bit integer, a ``float8`` an IEEE double.

Built here rather than row by row through psycopg in the commit: a batch repeats its
series, its observation times and its text states, so each is encoded once, and the
commit only streams bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from acquisition import Reading

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # no flags, no header extension
TRAILER = b"\xff\xff"
_SIX_FIELDS = struct.pack(">h", 6)
_EIGHT = struct.pack(">i", 8)
_NULL = struct.pack(">i", -1)
_NUMBER_NO_TEXT = struct.Struct(">idi")  # num (length 8, value), txt NULL
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _text(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">i", len(data)) + data


def observation_rows(history: Sequence[Reading]) -> bytes:
    """(tenant, entity_id, attr, observed_at, num, txt) per reading: the rows of a binary
    COPY into ``ciudad_observations``, without the signature and the trailer."""
    series: dict[tuple[str, str, str], bytes] = {}
    stamps: dict[datetime, bytes] = {}
    texts: dict[str, bytes] = {}  # states repeat ("free", "on"): num NULL + txt, once each
    parts: list[bytes] = []
    for r in history:
        key = (r.tenant, r.entity_id, r.attr)
        prefix = series.get(key)
        if prefix is None:
            prefix = series[key] = (
                _SIX_FIELDS + _text(r.tenant) + _text(r.entity_id) + _text(r.attr)
            )
        stamp = stamps.get(r.observed_at)
        if stamp is None:
            since = (r.observed_at - _PG_EPOCH) // _MICROSECOND
            stamp = stamps[r.observed_at] = _EIGHT + since.to_bytes(8, "big", signed=True)
        value = r.value
        if isinstance(value, float):
            parts += (prefix, stamp, _NUMBER_NO_TEXT.pack(8, value, -1))
        else:
            field = texts.get(value)
            if field is None:
                field = texts[value] = _NULL + _text(value)
            parts += (prefix, stamp, field)
    return b"".join(parts)
