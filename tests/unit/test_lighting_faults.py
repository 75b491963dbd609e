"""Lamp faults, energy against the non-dimmed baseline, and the node's schedule format."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from services.energy.lighting import firmware_steps, night_schedule
from services.energy.lighting_faults import LampState, energy_and_baseline, lamp_faults

LEON = (42.5987, -5.5671)
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # sun up in León (sunrise ~07:30 UTC)
MIDNIGHT = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)


def lamp(
    on: bool, watts: float | None, at: datetime = MIDNIGHT, fault: str | None = None
) -> LampState:
    return LampState(
        "l1", *LEON, rating_w=100.0, on=on, watts=watts, node_fault=fault, observed_at=at
    )


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (lamp(on=True, watts=100.0), []),
        (lamp(on=False, watts=0.0), []),
        (lamp(on=False, watts=0.0, at=NOON), []),
        (lamp(on=True, watts=50.0), []),  # dimmed, drawing half
        (lamp(on=True, watts=2.0), ["no-power-when-on"]),
        (lamp(on=True, watts=100.0, at=NOON), ["burning-by-day"]),
        (lamp(on=True, watts=125.0), ["power-above-rating"]),
        (lamp(on=True, watts=109.0), []),  # within 10 % of its rating
        (lamp(on=False, watts=0.0, fault="current_when_off"), ["power-when-off"]),
        (lamp(on=True, watts=0.3, fault="no_current"), ["no-power-when-on"]),  # said once
        (lamp(on=True, watts=None), []),  # no power reading: nothing to judge
    ],
)
def test_faults_from_the_latest_report(state: LampState, expected: list[str]) -> None:
    assert lamp_faults(state) == expected


def test_energy_and_the_saving_of_dimming() -> None:
    # 100 W lamp: 2 h at full power, then 2 h dimmed to 50 W, readings every 15 minutes
    times = np.arange(17, dtype=np.int64) * 900 * 10**6
    watts = np.where(np.arange(17) <= 8, 100.0, 50.0)
    kwh, baseline = energy_and_baseline(times, watts, 100.0)
    # the step between readings 8 and 9 is integrated as a trapezoid (75 W for 15 min)
    assert kwh == pytest.approx(0.2 + 0.25 * 0.075 + 1.75 * 0.05)
    assert baseline == pytest.approx(0.4)


def test_a_lamp_off_costs_nothing_in_the_baseline_either() -> None:
    times = np.arange(5, dtype=np.int64) * 900 * 10**6
    kwh, baseline = energy_and_baseline(times, np.zeros(5), 100.0)
    assert (kwh, baseline) == (0.0, 0.0)


def test_the_night_schedule_in_the_nodes_format() -> None:
    steps = night_schedule(date(2026, 11, 22), *LEON)
    assert steps is not None
    sent = firmware_steps(steps)
    assert sent == sorted(sent)
    by_level = {level: minute for minute, level in sent}
    # on at sunset (16:54 UTC), 50 % at 23:00 Madrid (22:00 UTC), full at 06:00, off at sunrise
    assert by_level[50] == 22 * 60
    assert 16 * 60 < max(m for m, level in sent if level == 100) < 17 * 60
    assert 7 * 60 < by_level[0] < 8 * 60
