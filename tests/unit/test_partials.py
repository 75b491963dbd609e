"""The aggregation core against a batch oracle computed with numpy on all the raw data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import knowledge.aggregate.partials as partials_module
from knowledge.aggregate.partials import (
    DB_HISTOGRAM,
    MINUTE_US,
    Partials,
    merge,
    rebucket,
    summarise,
)

WINDOWS = (MINUTE_US, 15 * MINUTE_US, 60 * MINUTE_US, 1440 * MINUTE_US)


@dataclass(frozen=True)
class Raw:
    series: np.ndarray
    times: np.ndarray
    values: np.ndarray
    energetic: np.ndarray


@st.composite
def raw_readings(draw: st.DrawFn) -> Raw:
    n = draw(st.integers(1, 300))
    n_series = draw(st.integers(1, 6))
    series = np.array(draw(st.lists(st.integers(0, n_series - 1), min_size=n, max_size=n)))
    # Three days around the epoch origin, some before it, with collisions on purpose.
    times = np.array(
        draw(st.lists(st.integers(-86_400, 2 * 86_400), min_size=n, max_size=n)), np.int64
    ) * 1_000_000 + draw(st.integers(0, 999_999))
    values = np.array(draw(st.lists(st.floats(-20, 170, allow_nan=False), min_size=n, max_size=n)))
    db_series = np.array(draw(st.lists(st.booleans(), min_size=n_series, max_size=n_series)))
    return Raw(series.astype(np.int64), times, values, db_series[series])


def oracle(
    raw: Raw, window: int, histogram: bool = True
) -> dict[tuple[int, int], dict[str, object]]:
    """Straightforward per-group numpy on all raw data: the truth partials must equal."""
    bucket = (raw.times // window) * window
    result = {}
    for s, b in {(int(s), int(b)) for s, b in zip(raw.series, bucket, strict=True)}:
        mask = (raw.series == s) & (bucket == b)
        v, t, e = raw.values[mask], raw.times[mask], raw.energetic[mask]
        first_at, last_at = t.min(), t.max()
        spec = DB_HISTOGRAM
        bins = np.clip(np.floor((v[e] - spec.low) / spec.width), 0, spec.bins - 1).astype(int)
        counts = np.bincount(bins, minlength=spec.bins) if histogram else np.zeros(1)
        result[(s, b)] = {
            "count": v.size,
            "total": v.sum(),
            "total_sq": (v * v).sum(),
            "minimum": v.min(),
            "maximum": v.max(),
            "first_at": first_at,
            "first": v[t == first_at].min(),
            "last_at": last_at,
            "last": v[t == last_at].max(),
            "energy": np.power(10.0, v[e] / 10.0).sum(),
            "hist": {int(i): int(c) for i, c in enumerate(counts) if c},
        }
    return result


def assert_matches(p: Partials, expected: dict[tuple[int, int], dict[str, object]]) -> None:
    keys = list(zip(p.series.tolist(), p.bucket.tolist(), strict=True))
    assert sorted(keys) == sorted(expected), "one row per (series, bucket)"
    assert len(set(keys)) == len(keys)
    hist: dict[int, dict[int, int]] = {}
    for row, b, c in zip(p.hist_row, p.hist_bin, p.hist_count, strict=True):
        hist.setdefault(int(row), {})[int(b)] = int(c)
    for row, key in enumerate(keys):
        want = expected[key]
        for name in ("count", "first_at", "last_at", "minimum", "maximum", "first", "last"):
            assert getattr(p, name)[row] == want[name], (name, key)
        for name in ("total", "total_sq", "energy"):
            assert np.isclose(getattr(p, name)[row], want[name], rtol=1e-9, atol=1e-6), name
        assert hist.get(row, {}) == want["hist"], key


def split(raw: Raw, cuts: list[int], order: list[int]) -> list[Raw]:
    """The raw data as batches cut at ``cuts``, arriving in ``order`` (late data)."""
    bounds = sorted({0, raw.series.size, *(c % (raw.series.size + 1) for c in cuts)})
    pieces = [
        Raw(*(a[lo:hi] for a in (raw.series, raw.times, raw.values, raw.energetic)))
        for lo, hi in itertools.pairwise(bounds)
    ]
    arrival = dict.fromkeys([i % len(pieces) for i in order] + list(range(len(pieces))))
    return [pieces[i] for i in arrival]


def summarise_raw(raw: Raw, window: int) -> Partials:
    return summarise(raw.series, raw.times, raw.values, window, raw.energetic)


@settings(max_examples=150, deadline=None)
@given(raw=raw_readings(), window=st.sampled_from(WINDOWS), histogram=st.booleans())
def test_summary_equals_the_oracle(raw: Raw, window: int, histogram: bool) -> None:
    spec = DB_HISTOGRAM if histogram else None
    p = summarise(raw.series, raw.times, raw.values, window, raw.energetic, spec)
    assert_matches(p, oracle(raw, window, histogram))


@settings(max_examples=150, deadline=None)
@given(
    raw=raw_readings(),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    order=st.lists(st.integers(0, 6), max_size=7),
    window=st.sampled_from(WINDOWS),
)
def test_late_and_out_of_order_batches_merge_to_the_oracle(
    raw: Raw, cuts: list[int], order: list[int], window: int
) -> None:
    batches = [summarise_raw(piece, window) for piece in split(raw, cuts, order)]
    assert_matches(merge(batches), oracle(raw, window))


@settings(max_examples=100, deadline=None)
@given(raw=raw_readings(), cuts=st.lists(st.integers(0, 400), max_size=4))
def test_roll_up_chain_equals_the_oracle_at_every_resolution(raw: Raw, cuts: list[int]) -> None:
    level = merge([summarise_raw(piece, MINUTE_US) for piece in split(raw, cuts, [])])
    for window in WINDOWS[1:]:
        level = rebucket(level, window)
        assert_matches(level, oracle(raw, window))


@settings(max_examples=100, deadline=None)
@given(raw=raw_readings(), first_cut=st.integers(0, 300), second_cut=st.integers(0, 300))
def test_merge_is_associative_and_commutative(raw: Raw, first_cut: int, second_cut: int) -> None:
    lo, hi = sorted((first_cut % (raw.series.size + 1), second_cut % (raw.series.size + 1)))
    a, b, c = (
        summarise_raw(Raw(*(x[s] for x in (raw.series, raw.times, raw.values, raw.energetic))), 60)
        for s in (slice(0, lo), slice(lo, hi), slice(hi, None))
    )
    left, right = merge([merge([a, b]), c]), merge([c, merge([b, a])])
    for name in ("series", "bucket", "count", "minimum", "maximum", "first", "last"):
        assert np.array_equal(getattr(left, name), getattr(right, name)), name
    assert np.allclose(left.total, right.total)
    assert np.array_equal(left.hist_count, right.hist_count)


def test_derived_statistics() -> None:
    times = np.array([0, 1, 2, 3], np.int64) * 1_000_000
    p = summarise(
        np.zeros(4, np.int64),
        times,
        np.array([60.0, 70.0, 60.0, 70.0]),
        MINUTE_US,
        np.ones(4, np.bool_),
    )
    assert p.mean()[0] == 65.0
    assert p.stddev()[0] == pytest.approx(5.0)
    # Two equal energies at 60 and 70 dB: Leq = 10*log10((1e6 + 1e7) / 2) = 67.4 dB.
    assert p.energetic_mean_db()[0] == pytest.approx(67.40362689)


def test_empty_input_gives_empty_partials() -> None:
    empty = np.empty(0, np.int64)
    p = summarise(empty, empty, np.empty(0), MINUTE_US)
    assert len(p) == 0
    assert len(merge([p, p])) == 0


@settings(max_examples=100, deadline=None)
@given(
    levels=st.lists(st.floats(20, 130), min_size=1, max_size=400),
    q=st.sampled_from([10.0, 50.0, 90.0, 95.0]),
)
def test_histogram_percentiles_are_within_one_bin_of_the_exact_value(
    levels: list[float], q: float
) -> None:
    values = np.array(levels)
    n = values.size
    p = summarise(
        np.zeros(n, np.int64),
        np.arange(n, dtype=np.int64),
        values,
        MINUTE_US * 10**6,
        np.ones(n, np.bool_),
    )
    exact = np.percentile(values, q, method="inverted_cdf")
    assert abs(p.percentile(q)[0] - exact) <= DB_HISTOGRAM.width + 1e-9


def test_percentiles_per_row_use_only_that_row() -> None:
    values = np.array([40.0] * 9 + [80.0] + [60.0] * 10)
    series = np.array([0] * 10 + [1] * 10, np.int64)
    p = summarise(series, np.arange(20, dtype=np.int64), values, MINUTE_US, np.ones(20, np.bool_))
    l10, l90 = p.percentile(90.0), p.percentile(10.0)
    assert 40.0 <= l90[0] <= 40.5
    assert 40.0 <= l10[0] <= 40.5  # 90% of row 0 is at 40 dB
    assert 60.0 <= l10[1] <= 60.5


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=raw_readings(), window=st.sampled_from(WINDOWS))
def test_time_ordered_streams_summarised_in_slices_equal_the_oracle(
    raw: Raw, window: int, monkeypatch_slices: None
) -> None:  # the fixture only sets a constant: sharing it across examples is intended
    order = np.argsort(raw.times, kind="stable")
    ordered = Raw(raw.series[order], raw.times[order], raw.values[order], raw.energetic[order])
    assert_matches(summarise_raw(ordered, window), oracle(ordered, window))


@pytest.fixture
def monkeypatch_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices of a few readings, so hypothesis' small inputs cross many slice cuts."""
    monkeypatch.setattr(partials_module, "SLICE_READINGS", 4)


def test_values_outside_the_histogram_land_in_its_end_bins_however_large() -> None:
    # Valid JSON numbers far past int64 once cast the bin index to garbage (bin 0 for 1e300).
    values = np.array([-1e300, -3.0, 0.0, 59.9, 160.0, 1e41, 1e300])
    top = DB_HISTOGRAM.bins - 1
    assert DB_HISTOGRAM.bin_of(values).tolist() == [0, 0, 0, 119, top, top, top]
