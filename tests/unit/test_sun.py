"""Sunrise and sunset against published almanac times for Madrid (40.4168 N, 3.7038 W)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.energy.sun import sun_times

MADRID = (40.4168, -3.7038)


@pytest.mark.parametrize(
    ("day", "sunrise_utc", "sunset_utc"),
    [
        # Published local times (CET = UTC+1, CEST = UTC+2), converted to UTC.
        (date(2026, 1, 1), "07:38", "16:58"),  # 08:38 / 17:58 CET
        (date(2026, 6, 4), "04:45:43", "19:40:56"),  # 06:45:43 / 21:40:56 CEST
        (date(2026, 10, 21), "06:32", "17:26"),  # 08:32 / 19:26 CEST
        (date(2026, 10, 26), "06:37", "17:19"),  # 07:37 / 18:19 CET
    ],
)
def test_madrid_sunrise_and_sunset_within_a_minute_of_the_almanac(
    day: date, sunrise_utc: str, sunset_utc: str
) -> None:
    times = sun_times(day, *MADRID)
    for computed, published in ((times.sunrise, sunrise_utc), (times.sunset, sunset_utc)):
        assert computed is not None
        expected = datetime.combine(
            day,
            datetime.strptime(
                published, "%H:%M:%S" if published.count(":") == 2 else "%H:%M"
            ).time(),
            UTC,
        )
        assert abs((computed - expected).total_seconds()) <= 60, (computed, expected)


def test_polar_night_and_midnight_sun_have_no_event() -> None:
    tromso = (69.6496, 18.9560)
    winter = sun_times(date(2026, 12, 21), *tromso)
    assert (winter.sunrise, winter.sunset) == (None, None)
    summer = sun_times(date(2026, 6, 21), *tromso)
    assert (summer.sunrise, summer.sunset) == (None, None)
