"""Mobility vertical, parking: occupancy forecast for the next hours, and its backtest.

The forecast is seasonal: the mean occupancy of the zone at that hour of the
day on the same kind of day (weekday or weekend), learnt from its history.
The backtest fits on the first days of a history, forecasts the rest, and
compares its mean absolute error with persistence (occupancy stays as it was
``horizon`` hours before), the naive baseline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

Key = tuple[str, bool, int]  # zone, weekend, local hour


@dataclass(frozen=True, slots=True)
class Occupancy:
    zone: str
    at: datetime  # aware
    ratio: float  # occupied / total, clipped to 0..1


def _key(sample: Occupancy, zone: ZoneInfo) -> Key:
    local = sample.at.astimezone(zone)
    return sample.zone, local.weekday() >= 5, local.hour


def seasonal_profile(history: Iterable[Occupancy], timezone: str) -> dict[Key, float]:
    zone = ZoneInfo(timezone)
    sums: dict[Key, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for sample in history:
        acc = sums[_key(sample, zone)]
        acc[0] += sample.ratio
        acc[1] += 1
    return {key: total / count for key, (total, count) in sums.items()}


def forecast(
    profile: dict[Key, float], zone_name: str, moments: Iterable[datetime], timezone: str
) -> list[float | None]:
    """The profile's occupancy for each moment (None where it never saw that hour)."""
    zone = ZoneInfo(timezone)
    return [profile.get(_key(Occupancy(zone_name, moment, 0.0), zone)) for moment in moments]


@dataclass(frozen=True, slots=True)
class Backtest:
    samples: int
    seasonal_mae: float
    persistence_mae: dict[int, float]  # horizon in hours -> error


def _persisted(series: Sequence[Occupancy], at: datetime) -> float | None:
    """The last known occupancy at or before ``at``, within half an hour."""
    earlier = [s for s in series if at - timedelta(minutes=30) <= s.at <= at]
    return earlier[-1].ratio if earlier else None


def backtest(
    samples: Sequence[Occupancy], split: datetime, timezone: str, horizons: Sequence[int] = (1, 3)
) -> Backtest:
    train = [s for s in samples if s.at < split]
    test = [s for s in samples if s.at >= split]
    profile = seasonal_profile(train, timezone)
    by_zone: dict[str, list[Occupancy]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: s.at):
        by_zone[sample.zone].append(sample)
    seasonal_errors: list[float] = []
    persistence: dict[int, list[float]] = {h: [] for h in horizons}
    for sample in test:
        (predicted,) = forecast(profile, sample.zone, [sample.at], timezone)
        earlier = [
            _persisted(by_zone[sample.zone], sample.at - timedelta(hours=h)) for h in horizons
        ]
        if predicted is None or any(e is None for e in earlier):
            continue  # compare both models on the same samples only
        seasonal_errors.append(abs(predicted - sample.ratio))
        for h, value in zip(horizons, earlier, strict=True):
            assert value is not None
            persistence[h].append(abs(value - sample.ratio))
    count = len(seasonal_errors)
    return Backtest(
        count,
        sum(seasonal_errors) / count if count else float("nan"),
        {h: sum(e) / len(e) if e else float("nan") for h, e in persistence.items()},
    )
