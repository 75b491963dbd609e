"""Domain aggregates with known inputs and hand-computed outputs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from knowledge.aggregate.indicators import (
    NoisePeriods,
    daily_max_8h_mean,
    day_noise,
    energy_kwh,
    lden_from_levels,
    noise_indicators,
    rolling_8h_mean,
    time_weighted_occupancy,
)
from knowledge.aggregate.partials import summarise
from knowledge.query.records import SeriesAggregates

HOUR = 3_600_000_000


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1_000_000)


def test_lden_of_a_flat_60_55_50_day_is_60_db() -> None:
    # 12 h at 60, 4 h at 55+5 and 8 h at 50+10: every hour weighs 10^6.
    assert lden_from_levels(60.0, 55.0, 50.0) == pytest.approx(60.0)
    assert lden_from_levels(70.0, 70.0, 70.0) == pytest.approx(76.39, abs=0.01)


def test_day_noise_splits_local_periods_and_puts_the_night_on_the_evening_before() -> None:
    # Madrid in November is UTC+1.  Readings at 10:00 local (day), 20:00 (evening),
    # 02:00 local next morning (night of the 20th) and 08:00 local on the 21st (day of 21st).
    times = np.array(
        [
            us("2026-11-20T09:00:00+00:00"),
            us("2026-11-20T19:00:00+00:00"),
            us("2026-11-21T01:00:00+00:00"),
            us("2026-11-21T07:00:00+00:00"),
        ],
        np.int64,
    )
    values = np.array([60.0, 55.0, 50.0, 70.0])
    partials = summarise(np.zeros(4, np.int64), times, values, 900 * 10**6, np.ones(4, np.bool_))
    aggregates = SeriesAggregates("LAeq", 900, ("n1",), (True,), partials, 900)
    first, second = day_noise(aggregates)
    assert first.day == date(2026, 11, 20)
    assert (first.ld, first.le, first.ln) == pytest.approx((60.0, 55.0, 50.0))
    assert first.lden == pytest.approx(60.0)
    assert second.day == date(2026, 11, 21)
    assert second.ld == pytest.approx(70.0)
    assert np.isnan(second.lden), "no evening or night yet: no Lden"


def test_noise_periods_are_configurable_per_country() -> None:
    periods = NoisePeriods(day_start=6, evening_start=18, night_start=22, timezone="UTC")
    assert periods.classify(datetime(2026, 6, 1, 5, 30, tzinfo=UTC)) == (date(2026, 5, 31), 2)
    assert periods.classify(datetime(2026, 6, 1, 18, 0, tzinfo=UTC)) == (date(2026, 6, 1), 1)
    with pytest.raises(ValueError, match="noise periods"):
        NoisePeriods(day_start=19, evening_start=7)


def test_noise_indicators_per_window() -> None:
    values = np.array([50.0] * 80 + [70.0] * 20)
    partials = summarise(
        np.zeros(100, np.int64),
        np.arange(100, dtype=np.int64),
        values,
        HOUR,
        np.ones(100, np.bool_),
    )
    ind = noise_indicators(partials)
    assert ind.lmax[0] == 70.0
    assert ind.leq[0] == pytest.approx(10 * np.log10(0.8 * 1e5 + 0.2 * 1e7))
    assert 70.0 <= ind.l10[0] <= 70.5
    assert 50.0 <= ind.l90[0] <= 50.5


def test_o3_eight_hour_means_need_six_of_eight_hours() -> None:
    starts = np.arange(10, dtype=np.int64) * HOUR
    means = np.arange(10, dtype=np.float64) * 10  # 0, 10, ..., 90
    keep = np.ones(10, np.bool_)
    keep[[1, 2]] = False  # hours 1 and 2 missing
    ends, rolling = rolling_8h_mean(starts[keep], means[keep])
    got = dict(zip((ends // HOUR).tolist(), rolling.tolist(), strict=True))
    assert 6 not in got, "hours 0-6 hold only 5 values"
    assert got[7] == pytest.approx(np.mean([0, 30, 40, 50, 60, 70]))
    assert got[9] == pytest.approx(np.mean([30, 40, 50, 60, 70, 80, 90]))
    assert daily_max_8h_mean(starts, means) == {date(1970, 1, 1): pytest.approx(55.0)}


def test_parking_occupancy_is_weighted_by_time() -> None:
    times = np.array([0, 15, 45], np.int64) * 60_000_000  # free, occupied at 15 min, free at 45
    occupied = np.array([False, True, False])
    assert time_weighted_occupancy(times, occupied, 0, HOUR) == pytest.approx(0.5)
    # From 30 min: occupied 15 of 30 minutes.
    assert time_weighted_occupancy(times, occupied, HOUR // 2, HOUR) == pytest.approx(0.5)
    assert time_weighted_occupancy(times, occupied, 0, 15 * 60_000_000) == 0.0


def test_lighting_energy_integrates_power_and_skips_long_gaps() -> None:
    times = np.array([0, 1800, 3600, 3600 + 7200], np.int64) * 1_000_000
    watts = np.array([100.0, 100.0, 200.0, 200.0])
    # 0.5 h x 100 W + 0.5 h x 150 W = 125 Wh; the 2-hour gap is not integrated.
    assert energy_kwh(times, watts, max_gap_s=1800) == pytest.approx(0.125)
    assert energy_kwh(times, watts) == 0.0, "default: gaps over 15 min are unknown"
    assert energy_kwh(times, watts, max_gap_s=7200) == pytest.approx(0.525)
