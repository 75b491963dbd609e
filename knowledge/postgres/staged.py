"""A batch's share of Python work for the store, done before its turn to commit.

The gateway normalises the next messages while a batch commits. Staging is pure and
runs there too: splitting the readings (history, latest state), the history's COPY rows,
the columns the roll-ups are made of, the days the partitions must cover and the
observation times the latency counts need. The commit is then left with PostgreSQL's
part, which overlaps the next batch's Python instead of following its own
(docs/benchmarks.md). Chunks staged apart merge into one commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

import numpy as np

from acquisition import Batch, Reading, ValueType
from knowledge.postgres.copy_rows import observation_rows
from knowledge.postgres.rollups import DECIBEL_UNIT
from support.times import to_epoch_us

SeriesKey = tuple[str, str, str]  # tenant, entity id, attribute
_series_key = attrgetter("tenant", "entity_id", "attr")
_tenant_time = attrgetter("tenant", "observed_at")
_observed_at = attrgetter("observed_at")


@dataclass(frozen=True, slots=True)
class StagedBatch:
    """A batch and what the store derived from its readings, ready to write."""

    batch: Batch
    history: list[Reading]  # numbers and texts: the time series (DateTime is state only)
    history_rows: bytes  # binary COPY rows of ``history`` (copy_rows.observation_rows)
    latest: dict[SeriesKey, Reading]  # per attribute the latest reading: the state merge's
    numeric_keys: list[SeriesKey]  # the numeric history readings, for the roll-ups
    numeric_us: np.ndarray[Any, np.dtype[np.int64]]  # their times, microseconds since 1970
    numeric_values: np.ndarray[Any, np.dtype[np.float64]]
    decibels: dict[SeriesKey, bool]  # per numeric series: averaged energetically
    days: frozenset[date]  # UTC days the readings fall on
    times: Counter[tuple[str, datetime]]  # readings per tenant and observation time


def stage_batch(batch: Batch) -> StagedBatch:
    readings = batch.readings
    history = [r for r in readings if r.value_type is not ValueType.DATETIME]
    numeric = [r for r in history if isinstance(r.value, float)]
    numeric_times = list(map(_observed_at, numeric))
    # Readings of one measure share their time: convert each distinct time once.
    since_epoch = {t: to_epoch_us(t) for t in set(numeric_times)}
    numeric_keys = list(map(_series_key, numeric))
    return StagedBatch(
        batch=batch,
        history=history,
        history_rows=observation_rows(history),
        latest=_latest(readings),
        numeric_keys=numeric_keys,
        numeric_us=np.array([since_epoch[t] for t in numeric_times], dtype=np.int64),
        numeric_values=np.array([r.value for r in numeric], dtype=np.float64),
        decibels={
            k: r.unit_code == DECIBEL_UNIT for k, r in zip(numeric_keys, numeric, strict=True)
        },
        days=frozenset(t.astimezone(UTC).date() for t in set(map(_observed_at, readings))),
        times=Counter(map(_tenant_time, readings)),
    )


def _latest(readings: Sequence[Reading]) -> dict[SeriesKey, Reading]:
    """Per attribute its latest reading (at an equal time the first stays, as it does in
    the history and the state)."""
    latest: dict[SeriesKey, Reading] = {}
    for key, r in zip(map(_series_key, readings), readings, strict=True):
        kept = latest.get(key)
        if kept is None or r.observed_at > kept.observed_at:
            latest[key] = r
    return latest


def merge_staged(parts: Sequence[StagedBatch], batch: Batch) -> StagedBatch:
    """Chunks staged apart, in order, as one (``batch`` holds their batches merged)."""
    if len(parts) == 1:
        return replace(parts[0], batch=batch)
    return StagedBatch(
        batch=batch,
        history=[r for p in parts for r in p.history],
        history_rows=b"".join(p.history_rows for p in parts),
        latest=_latest([r for p in parts for r in p.latest.values()]),
        numeric_keys=[k for p in parts for k in p.numeric_keys],
        numeric_us=np.concatenate([p.numeric_us for p in parts]),
        numeric_values=np.concatenate([p.numeric_values for p in parts]),
        decibels={k: v for p in parts for k, v in p.decibels.items()},
        days=frozenset().union(*(p.days for p in parts)),
        times=_counted(p.times for p in parts),
    )


def _counted(counts: Iterable[Counter[tuple[str, datetime]]]) -> Counter[tuple[str, datetime]]:
    total: Counter[tuple[str, datetime]] = Counter()
    for c in counts:
        total.update(c)  # in place: sum() would copy the total at every part
    return total
