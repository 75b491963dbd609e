"""The parking forecast backtested on a week of real Aarhus garage counts."""

from __future__ import annotations

from datetime import datetime

from capture.samples import AARHUS, SAMPLE_DIR, read_aarhus_parking
from services.mobility.parking_forecast import Occupancy, backtest, seasonal_profile

SAMPLE = SAMPLE_DIR / "parking" / "aarhus_parking_2014-05-22_to_28.csv"


def occupancy() -> list[Occupancy]:
    counts = read_aarhus_parking(SAMPLE)
    # Two garages report a constant 0: no signal to forecast (README of the samples).
    live = {c.garage for c in counts if c.occupied > 0}
    return [
        Occupancy(c.garage, c.at, min(1.0, c.occupied / c.total))
        for c in counts
        if c.garage in live and c.total > 0
    ]


def test_the_sample_reads_as_six_live_garages_every_half_hour() -> None:
    samples = occupancy()
    assert len({s.zone for s in samples}) == 6
    assert len(samples) == 6 * 171
    assert all(0 <= s.ratio <= 1 for s in samples)


def test_seasonal_forecast_backtest_against_persistence() -> None:
    # Fit on Thursday 22 to Monday 26 May 2014, forecast Tuesday 27 and Wednesday 28.
    result = backtest(occupancy(), datetime(2014, 5, 27, tzinfo=AARHUS), "Europe/Copenhagen")
    assert result.samples > 400
    # Figures reported in docs/services.md; the seasonal forecast does not decay with the
    # horizon, persistence does.
    assert result.seasonal_mae < result.persistence_mae[3]
    assert result.persistence_mae[1] < result.persistence_mae[3]


def test_the_profile_separates_weekdays_from_weekends() -> None:
    # The sample has no Saturday and only a few Sunday hours (gaps in the source).
    profile = seasonal_profile(occupancy(), "Europe/Copenhagen")
    assert ("SALLING", False, 21) in profile
    assert ("SALLING", True, 21) in profile
    assert ("SALLING", True, 12) not in profile
