"""A lamp's night schedule from the Sun at its coordinates and the dimming profile."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.energy.lighting import night_schedule
from services.energy.sun import sun_times

MADRID = (40.4168, -3.7038)


def test_a_winter_night_in_madrid_switches_at_sunset_dims_and_ends_at_sunrise() -> None:
    steps = night_schedule(date(2026, 1, 1), *MADRID)
    assert steps is not None
    dusk = sun_times(date(2026, 1, 1), *MADRID).sunset
    dawn = sun_times(date(2026, 1, 2), *MADRID).sunrise
    assert [(s.at, s.level) for s in steps] == [
        (dusk, 100),
        (datetime(2026, 1, 1, 22, 0, tzinfo=UTC), 50),  # 23:00 CET
        (datetime(2026, 1, 2, 5, 0, tzinfo=UTC), 100),  # 06:00 CET
        (dawn, 0),
    ]


def test_steps_outside_a_short_summer_night_are_dropped() -> None:
    # Near Tromso in May the night is short but real: 06:00 local is after sunrise.
    steps = night_schedule(date(2026, 5, 1), 69.6496, 18.9560)
    assert steps is not None
    assert [s.level for s in steps] == [100, 50, 0]
    assert night_schedule(date(2026, 6, 21), 69.6496, 18.9560) is None  # midnight sun
