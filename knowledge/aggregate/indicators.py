"""Domain aggregates of the smart-city verticals, as pure functions over partials and arrays.

- Noise: Leq, Lmax, L10/L50/L90 per window; Ld/Le/Ln and Lden per day (EU
  2002/49/EC: day 07-19, evening 19-23, night 23-07 local time by default,
  with +5 dB evening and +10 dB night penalties; periods configurable).
- Air: hourly and daily means come straight from the roll-ups; the O3
  8-hour rolling mean and its daily maximum (2008/50/EC: a mean needs 6 of 8
  hours) are computed here from hourly means.
- Parking: time-weighted occupancy of a bay from its status changes.
- Lighting: energy in kWh by integrating power over time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from knowledge.aggregate.partials import F64, I64, Partials
from knowledge.query.records import SeriesAggregates
from support.times import from_epoch_us

HOUR_US = 3_600_000_000


@dataclass(frozen=True, slots=True)
class NoiseIndicators:
    """Per row of a SeriesAggregates: the usual noise descriptors (dB)."""

    leq: F64
    lmax: F64
    l10: F64
    l50: F64
    l90: F64


def noise_indicators(partials: Partials) -> NoiseIndicators:
    """L10 is the level exceeded 10% of the time, i.e. the 90th percentile."""
    return NoiseIndicators(
        leq=partials.energetic_mean_db(),
        lmax=partials.maximum,
        l10=partials.percentile(90.0),
        l50=partials.percentile(50.0),
        l90=partials.percentile(10.0),
    )


@dataclass(frozen=True, slots=True)
class NoisePeriods:
    """Local hours where the day, evening and night periods start, and their penalties."""

    day_start: int = 7
    evening_start: int = 19
    night_start: int = 23
    timezone: str = "Europe/Madrid"
    evening_penalty_db: float = 5.0
    night_penalty_db: float = 10.0

    def __post_init__(self) -> None:
        if not 0 <= self.day_start < self.evening_start < self.night_start <= 24:
            raise ValueError("noise periods must satisfy 0 <= day < evening < night <= 24")

    def classify(self, moment: datetime) -> tuple[date, int]:
        """(assessment day, period 0=day 1=evening 2=night): a day runs from day_start to
        the next day's day_start, so its night ends the following morning."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        hour = local.hour + local.minute / 60
        day = local.date() - timedelta(days=1) if hour < self.day_start else local.date()
        if self.day_start <= hour < self.evening_start:
            return day, 0
        if self.evening_start <= hour < self.night_start:
            return day, 1
        return day, 2


EU_NOISE_PERIODS = NoisePeriods()


@dataclass(frozen=True, slots=True)
class DayNoise:
    entity_id: str
    day: date
    ld: float
    le: float
    ln: float
    lden: float  # NaN unless all three periods have data


def lden_from_levels(
    ld: float, le: float, ln: float, periods: NoisePeriods = EU_NOISE_PERIODS
) -> float:
    """Lden = 10 lg((Td 10^(Ld/10) + Te 10^((Le+5)/10) + Tn 10^((Ln+10)/10)) / 24)."""
    hours_day = periods.evening_start - periods.day_start
    hours_evening = periods.night_start - periods.evening_start
    hours_night = 24 - hours_day - hours_evening
    energy = (
        hours_day * 10 ** (ld / 10)
        + hours_evening * 10 ** ((le + periods.evening_penalty_db) / 10)
        + hours_night * 10 ** ((ln + periods.night_penalty_db) / 10)
    )
    return float(10 * np.log10(energy / 24))


def day_noise(
    aggregates: SeriesAggregates, periods: NoisePeriods = EU_NOISE_PERIODS
) -> list[DayNoise]:
    """Ld/Le/Ln/Lden per entity and assessment day, from 15-min (or finer) partials.

    Each period's level is the energetic mean of its readings; 15-min windows
    keep the periods exact in every time zone with whole or half-hour offsets.
    """
    if aggregates.period_s > 900 or 3600 % aggregates.period_s:
        raise ValueError("Lden needs partials of 15 minutes or a divisor of an hour")
    p = aggregates.partials
    labels = {int(b): periods.classify(from_epoch_us(int(b))) for b in np.unique(p.bucket)}
    sums: dict[tuple[int, date], np.ndarray] = {}
    for series, bucket, energy, count in zip(
        p.series.tolist(), p.bucket.tolist(), p.energy.tolist(), p.count.tolist(), strict=True
    ):
        day, period = labels[bucket]
        acc = sums.setdefault((series, day), np.zeros((3, 2)))
        acc[period] += (energy, count)
    result = []
    for (series, day), acc in sorted(sums.items()):
        with np.errstate(divide="ignore", invalid="ignore"):
            levels = np.where(acc[:, 1] > 0, 10 * np.log10(acc[:, 0] / acc[:, 1]), np.nan)
        ld, le, ln = (float(x) for x in levels)
        lden = lden_from_levels(ld, le, ln, periods) if not np.isnan(levels).any() else np.nan
        result.append(DayNoise(aggregates.entity_ids[series], day, ld, le, ln, float(lden)))
    return result


def rolling_8h_mean(hour_starts_us: I64, hourly_means: F64, min_hours: int = 6) -> tuple[I64, F64]:
    """O3 8-hour rolling means: for each hour h, the mean of hours h-7..h (ending at h+1),
    when at least ``min_hours`` of them have data; the result is stamped with hour h's start.
    """
    if hour_starts_us.size == 0:
        return hour_starts_us, hourly_means
    first = int(hour_starts_us.min())
    index = (hour_starts_us - first) // HOUR_US
    span = int(index.max()) + 1
    values = np.zeros(span + 7)
    present = np.zeros(span + 7)
    values[index + 7] = hourly_means
    present[index + 7] = 1.0
    window_sum = np.convolve(values, np.ones(8), mode="valid")[:span]
    window_n = np.convolve(present, np.ones(8), mode="valid")[:span]
    valid = window_n >= min_hours
    starts = first + np.arange(span, dtype=np.int64) * HOUR_US
    return starts[valid], window_sum[valid] / window_n[valid]


def daily_max_8h_mean(hour_starts_us: I64, hourly_means: F64) -> dict[date, float]:
    """Maximum daily 8-hour mean (UTC days, each 8-hour mean dated by the hour it ends in)."""
    starts, means = rolling_8h_mean(hour_starts_us, hourly_means)
    result: dict[date, float] = {}
    for start, mean in zip(starts.tolist(), means.tolist(), strict=True):
        day = from_epoch_us(start).date()
        result[day] = max(result.get(day, -np.inf), mean)
    return result


def time_weighted_occupancy(
    times_us: I64, occupied: np.ndarray, start_us: int, end_us: int
) -> float:
    """Fraction of [start, end) a bay was occupied; each status holds until the next one.

    Time before the first status in the window counts only if a status precedes
    the window (pass it as the first element); unknown time is left out.
    """
    order = np.argsort(times_us, kind="stable")
    t, state = times_us[order], occupied[order].astype(np.float64)
    begins = np.clip(t, start_us, end_us)
    ends = np.clip(np.append(t[1:], end_us), start_us, end_us)
    held = np.maximum(ends - begins, 0)
    known = float(held.sum())
    return float((held * state).sum() / known) if known else float("nan")


def energy_kwh(times_us: I64, watts: F64, max_gap_s: float = 900.0) -> float:
    """Energy by the trapezoidal rule; a gap longer than ``max_gap_s`` is not integrated
    (nothing is known about the power in it)."""
    if times_us.size < 2:
        return 0.0
    order = np.argsort(times_us, kind="stable")
    t, w = times_us[order] / 1e6, watts[order]
    dt = np.diff(t)
    joules = np.where(dt <= max_gap_s, dt * (w[1:] + w[:-1]) / 2, 0.0)
    return float(joules.sum() / 3.6e6)
