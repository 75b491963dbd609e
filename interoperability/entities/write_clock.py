"""The time rules of an API write: how far back and ahead readings may lie, and how many
days (each a daily partition of history) one request may touch.

The gateway refuses readings outside its age and future-skew limits; the API applies
the same limits (``CIUDAD_MAX_PAST_AGE_S``, ``CIUDAD_MAX_FUTURE_SKEW_S``) so that no
client can write centuries of partitions, and bounds the distinct days per request
(``CIUDAD_API_MAX_WRITE_DAYS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import Depends

from interoperability.deps import BadRequestError, check_time, get_settings
from support import Settings


@dataclass(slots=True)
class WriteClock:
    """One request's clock: checks each reading's time and counts the days it touches."""

    now: datetime
    max_past: timedelta
    max_future: timedelta
    max_days: int
    days: set[date] = field(default_factory=set)

    def admit(self, what: str, moment: datetime) -> datetime:
        """``moment`` in UTC if the rules allow it; BadRequestError saying which rule if not."""
        moment = check_time(what, moment)
        if moment < self.now - self.max_past:
            raise BadRequestError(
                f"{what} is more than {self.max_past.total_seconds():g} s in the past "
                "(CIUDAD_MAX_PAST_AGE_S)"
            )
        if moment > self.now + self.max_future:
            raise BadRequestError(
                f"{what} is more than {self.max_future.total_seconds():g} s in the future "
                "(CIUDAD_MAX_FUTURE_SKEW_S)"
            )
        self.days.add(moment.date())
        if len(self.days) > self.max_days:
            raise BadRequestError(
                f"one request may write readings of at most {self.max_days} different days "
                "(CIUDAD_API_MAX_WRITE_DAYS)"
            )
        return moment


def write_clock(settings: Annotated[Settings, Depends(get_settings)]) -> WriteClock:
    return WriteClock(
        now=datetime.now(UTC),
        max_past=timedelta(seconds=settings.max_past_age_s),
        max_future=timedelta(seconds=settings.max_future_skew_s),
        max_days=settings.api_max_write_days,
    )


WriteClockDep = Annotated[WriteClock, Depends(write_clock)]
