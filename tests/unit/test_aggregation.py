"""Energetic averaging of dB levels, checked against the textbook formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from knowledge import SeriesAggregates, energetic_mean_db, summarise
from services import leq_per_sensor

levels = arrays(
    np.float64,
    st.integers(min_value=1, max_value=200),
    elements=st.floats(min_value=0, max_value=140, allow_nan=False),
)


@given(levels)
def test_energetic_mean_matches_the_definition(values: np.ndarray) -> None:
    oracle = 10 * math.log10(sum(10 ** (v / 10) for v in values) / len(values))
    assert energetic_mean_db(values) == pytest.approx(oracle, abs=1e-9)


@given(levels)
def test_energetic_mean_lies_between_arithmetic_mean_and_max(values: np.ndarray) -> None:
    leq = energetic_mean_db(values)
    assert float(np.mean(values)) - 1e-9 <= leq <= float(np.max(values)) + 1e-9


def test_known_values() -> None:
    # 60 and 70 dB: 10*log10((10^6 + 10^7)/2) = 67.40 dB, not the arithmetic 65.
    assert energetic_mean_db(np.array([60.0, 70.0])) == pytest.approx(67.4036, abs=1e-4)
    assert energetic_mean_db(np.array([55.0] * 10)) == pytest.approx(55.0)


def test_huge_levels_do_not_overflow() -> None:
    assert energetic_mean_db(np.array([4000.0, 4000.0])) == pytest.approx(4000.0)


def test_mean_of_nothing_is_an_error_not_zero() -> None:
    with pytest.raises(ValueError, match="no levels"):
        energetic_mean_db(np.array([]))


def test_leq_per_sensor_merges_every_window_of_a_sensor() -> None:
    times = np.array([0, 60, 120], np.int64) * 1_000_000
    partials = summarise(
        np.array([0, 0, 1], np.int64),
        times,
        np.array([60.0, 70.0, 50.0]),
        60_000_000,
        np.ones(3, np.bool_),
    )
    aggregates = SeriesAggregates("LAeq", 60, ("a", "b", "c"), (True,) * 3, partials, 60)
    result = leq_per_sensor(aggregates)
    assert [(r.entity_id, r.leq_db, r.readings) for r in result] == [("a", 67.4, 2), ("b", 50.0, 1)]
