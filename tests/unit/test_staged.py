"""Staging a batch for the store: chunks staged apart and merged equal the batch staged
whole, and the binary COPY rows follow PostgreSQL's format."""

from __future__ import annotations

import itertools
import struct
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from acquisition import Batch, Reading, ValueType
from knowledge.postgres.copy_rows import observation_rows
from knowledge.postgres.staged import StagedBatch, merge_staged, stage_batch
from tests.helpers.fuzzing import fuzz_examples

T0 = datetime(2026, 11, 20, 23, 59, 58, tzinfo=UTC)


def _reading(entity: int, attr: int, second: int, value: float | str | None) -> Reading:
    if value is None:  # a DateTime attribute: state only, no history
        return Reading("t", f"e{entity}", "T", f"d{attr}", T0, "2026-01-01T00:00:00Z",
                       ValueType.DATETIME)  # fmt: skip
    kind = ValueType.NUMBER if isinstance(value, float) else ValueType.TEXT
    unit = "2N" if attr == 0 else None
    return Reading("t", f"e{entity}", "T", f"a{attr}", T0 + timedelta(seconds=second), value,
                   kind, unit)  # fmt: skip


READINGS = st.lists(
    st.builds(
        _reading,
        st.integers(0, 2),
        st.integers(0, 2),
        st.integers(0, 4),  # few times: equal times across chunks happen
        st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from(["on", "off", "ñ"]), st.none()
        ),
    ),
    max_size=30,
)


def _fields(staged: StagedBatch) -> dict[str, object]:
    return {
        "history": staged.history,
        "history_rows": staged.history_rows,
        "latest": list(staged.latest.items()),
        "numeric_keys": staged.numeric_keys,
        "numeric_us": staged.numeric_us.tolist(),
        "numeric_values": staged.numeric_values.tolist(),
        "decibels": staged.decibels,
        "days": staged.days,
        "times": dict(staged.times),
    }


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(readings=READINGS, cuts=st.lists(st.integers(0, 30), max_size=3))
def test_chunks_staged_apart_and_merged_equal_the_batch_staged_whole(
    readings: list[Reading], cuts: list[int]
) -> None:
    bounds = [0, *sorted(min(c, len(readings)) for c in cuts), len(readings)]
    chunks = [Batch(tuple(readings[a:b])) for a, b in itertools.pairwise(bounds)]
    whole = Batch(tuple(readings))
    merged = merge_staged([stage_batch(c) for c in chunks], whole)
    assert _fields(merged) == _fields(stage_batch(whole))
    assert merged.batch is whole


def test_the_latest_reading_of_an_attribute_is_the_first_at_its_newest_time() -> None:
    first, same_time, older = _reading(0, 1, 3, 1.0), _reading(0, 1, 3, 2.0), _reading(0, 1, 1, 3.0)
    staged = merge_staged(
        [stage_batch(Batch((first,))), stage_batch(Batch((same_time, older)))],
        Batch((first, same_time, older)),
    )
    assert staged.latest == {("t", "e0", "a1"): first}
    assert staged.numeric_values.tolist() == [1.0, 2.0, 3.0]


def test_times_are_microseconds_since_1970_and_days_are_utc() -> None:
    late = Reading("t", "e", "T", "a", datetime(2026, 11, 20, 23, 30, 0, 7,
                   tzinfo=UTC) + timedelta(hours=1), 1.0, ValueType.NUMBER)  # fmt: skip
    staged = stage_batch(Batch((late,)))
    assert staged.numeric_us.dtype == np.int64
    assert staged.numeric_us.tolist() == [
        (late.observed_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    ]
    assert staged.days == frozenset({datetime(2026, 11, 21).date()})


def _field(data: bytes, at: int) -> tuple[bytes | None, int]:
    (length,) = struct.unpack_from(">i", data, at)
    if length < 0:
        return None, at + 4
    return data[at + 4 : at + 4 + length], at + 4 + length


def test_copy_rows_are_six_fields_each_in_network_order() -> None:
    before_2000 = datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    rows = observation_rows(
        [
            Reading("tenañt", "e", "T", "a", before_2000, -1.5, ValueType.NUMBER),
            Reading("tenañt", "e", "T", "s", T0, "señal", ValueType.TEXT),
        ]
    )
    decoded, at = [], 0
    while at < len(rows):
        (count,) = struct.unpack_from(">h", rows, at)
        assert count == 6
        fields, at = [], at + 2
        for _ in range(6):
            value, at = _field(rows, at)
            fields.append(value)
        decoded.append(fields)
    since_2000 = datetime(2000, 1, 1, tzinfo=UTC)
    assert decoded == [
        ["tenañt".encode(), b"e", b"a", struct.pack(">q", -1), struct.pack(">d", -1.5), None],
        [
            "tenañt".encode(),
            b"e",
            b"s",
            struct.pack(">q", (T0 - since_2000) // timedelta(microseconds=1)),
            None,
            "señal".encode(),
        ],
    ]
