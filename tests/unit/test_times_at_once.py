"""Formatting many times at once gives what formatting each gives; derived observation
dates made in columns equal those made one by one; the gateway's heap settles."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from acquisition import ENTITY_TYPES
from support.heap import settle_heap
from support.times import from_epoch_us, iso_utc, iso_utc_many, to_epoch_us
from tests.helpers.fuzzing import fuzz_examples

# Year 1 to 9999 (what datetime holds), whole seconds and milliseconds favoured.
EPOCH_US = st.one_of(
    st.integers(-62_135_596_800_000_000, 253_402_300_799_999_999),
    st.integers(-(10**10), 2 * 10**9).map(lambda s: s * 1_000_000),
    st.integers(-(10**13), 2 * 10**12).map(lambda ms: ms * 1000),
)


@settings(max_examples=fuzz_examples(300), deadline=None)
@given(times=st.lists(EPOCH_US, max_size=20))
def test_many_times_format_as_each_does(times: list[int]) -> None:
    expected = [iso_utc(from_epoch_us(us)) for us in times]
    assert iso_utc_many(np.array(times, dtype=np.int64)) == expected


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(
    seconds=st.lists(st.integers(0, 10**9), min_size=1, max_size=10),
    micros=st.integers(0, 999_999),
    period_s=st.sampled_from([1.0, 60.0, 0.1, 900.0, 2.5]),
)
def test_derived_dates_in_columns_equal_those_made_one_by_one(
    seconds: list[int], micros: int, period_s: float
) -> None:
    observed = [datetime(1995, 1, 1, tzinfo=UTC) + timedelta(seconds=s, microseconds=micros)
                for s in seconds]  # fmt: skip
    epoch_us = np.array([to_epoch_us(t) for t in observed], dtype=np.int64)
    periods = np.full(len(observed), period_s)
    for entity_type in ENTITY_TYPES.values():
        columns = entity_type.derive_columns(epoch_us, periods)
        one_by_one = [entity_type.derive(t, period_s) for t in observed]
        assert [[(name, texts[i]) for name, texts in columns] for i in range(len(observed))] == [
            [(name, value) for name, value, _ in derived] for derived in one_by_one
        ]


def test_settling_freezes_what_exists_and_makes_young_collections_rarer() -> None:
    before = gc.get_threshold()
    try:
        settle_heap(young_threshold=12_345)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == 12_345
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
