"""Sunrise and sunset at a point, computed (no network): NOAA's solar calculator equations
(after Meeus, Astronomical Algorithms), good to about a minute between the polar circles.

Rise and set are when the Sun's centre is 0.833 degrees below the horizon
(refraction plus the Sun's radius), as almanacs publish them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_ZENITH = 90.833
_J2000 = 2451545.0


@dataclass(frozen=True, slots=True)
class SunTimes:
    sunrise: datetime | None  # None: the Sun does not rise (polar night) ...
    sunset: datetime | None  # ... or does not set (midnight sun) that day


def _julian_day(moment: datetime) -> float:
    return moment.timestamp() / 86_400 + 2440587.5


def _declination_and_equation_of_time(jd: float) -> tuple[float, float]:
    """(declination in radians, equation of time in minutes) at a Julian day."""
    t = (jd - _J2000) / 36525
    mean_longitude = math.radians((280.46646 + t * (36000.76983 + t * 0.0003032)) % 360)
    anomaly = math.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
    eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    centre = (
        math.sin(anomaly) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + math.sin(2 * anomaly) * (0.019993 - 0.000101 * t)
        + math.sin(3 * anomaly) * 0.000289
    )
    omega = math.radians(125.04 - 1934.136 * t)
    apparent = math.radians(
        math.degrees(mean_longitude) + centre - 0.00569 - 0.00478 * math.sin(omega)
    )
    seconds = 21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))
    obliquity = math.radians(23 + (26 + seconds / 60) / 60 + 0.00256 * math.cos(omega))
    declination = math.asin(math.sin(obliquity) * math.sin(apparent))
    y = math.tan(obliquity / 2) ** 2
    l0, m, e = mean_longitude, anomaly, eccentricity
    equation = (
        y * math.sin(2 * l0)
        - 2 * e * math.sin(m)
        + 4 * e * y * math.sin(m) * math.cos(2 * l0)
        - 0.5 * y * y * math.sin(4 * l0)
        - 1.25 * e * e * math.sin(2 * m)
    )
    return declination, 4 * math.degrees(equation)


def _event(day: date, latitude: float, longitude: float, rising: bool) -> datetime | None:
    """Sunrise or sunset (UTC) of a civil day, refined once at the event's own time."""
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) - timedelta(
        minutes=4 * longitude
    )
    for _ in range(2):
        declination, equation = _declination_and_equation_of_time(_julian_day(moment))
        lat = math.radians(latitude)
        cos_hour_angle = math.cos(math.radians(_ZENITH)) / (
            math.cos(lat) * math.cos(declination)
        ) - math.tan(lat) * math.tan(declination)
        if not -1 <= cos_hour_angle <= 1:
            return None
        hour_angle = math.degrees(math.acos(cos_hour_angle))
        noon_minutes = 720 - 4 * longitude - equation
        minutes = noon_minutes - 4 * hour_angle if rising else noon_minutes + 4 * hour_angle
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes)
    return moment


def sun_times(day: date, latitude: float, longitude: float) -> SunTimes:
    """Sunrise and sunset (UTC) of ``day`` at a point (longitude east positive)."""
    return SunTimes(
        _event(day, latitude, longitude, rising=True),
        _event(day, latitude, longitude, rising=False),
    )
