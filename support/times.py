"""Time formatting shared by every layer."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(stamp: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; milliseconds only when there are any (devices send ms)."""
    spec = "milliseconds" if stamp.microsecond else "seconds"
    return stamp.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")
