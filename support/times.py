"""Time formatting shared by every layer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_utc(stamp: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; milliseconds only when there are any (devices send ms)."""
    spec = "milliseconds" if stamp.microsecond else "seconds"
    return stamp.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def to_epoch_us(moment: datetime) -> int:
    """Microseconds since 1970 (exact: no float on the way)."""
    delta = moment.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)
