"""NGSI-LD aggregated temporal representation (``options=aggregatedValues``).

Each numeric attribute becomes ``{"type": "Property", "<method>": [[value,
startAt, endAt], ...]}`` per period of ``aggrPeriodDuration``, computed from the
knowledge layer's partials (roll-ups when the period and window fit one).

dB attributes (unit code ``2N``) average energetically: ``avg`` is Leq there,
and ``arithmeticAvg`` gives the plain mean if someone really wants it.  ciudad
extension methods: ``leq``, ``l10``, ``l50``, ``l90`` (levels exceeded 10/50/90%
of the time, from 0.5-dB histograms: 15-minute or coarser periods).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from interoperability.deps import BadRequestError
from knowledge import Partials, SeriesAggregates, noise_indicators, per_series
from support.times import from_epoch_us, iso_utc

Statistic = Callable[[Partials, bool], np.ndarray[Any, Any]]


def _avg(p: Partials, energetic: bool) -> np.ndarray[Any, Any]:
    return p.energetic_mean_db() if energetic else p.mean()


STATISTICS: dict[str, Statistic] = {
    "totalCount": lambda p, _: p.count.astype(np.float64),
    "sum": lambda p, _: p.total,
    "sumsq": lambda p, _: p.total_sq,
    "avg": _avg,
    "arithmeticAvg": lambda p, _: p.mean(),
    "min": lambda p, _: p.minimum,
    "max": lambda p, _: p.maximum,
    "stddev": lambda p, _: p.stddev(),
    "leq": lambda p, _: p.energetic_mean_db(),
    "l10": lambda p, _: noise_indicators(p).l10,
    "l50": lambda p, _: noise_indicators(p).l50,
    "l90": lambda p, _: noise_indicators(p).l90,
}
PERCENTILE_METHODS = frozenset({"l10", "l50", "l90"})
DISTINCT_COUNT = "distinctCount"  # from raw rows: a count of distinct values does not merge
MAX_PERIOD_S = 1100 * 366 * 86_400  # longer than any window the API accepts (1900-2999)
_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_methods(text: str) -> list[str]:
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in STATISTICS and m != DISTINCT_COUNT]
    if not methods or unknown:
        raise BadRequestError(
            f"aggrMethods: unknown {', '.join(unknown) or '(none given)'}; "
            f"use {', '.join([*STATISTICS, DISTINCT_COUNT])}"
        )
    return methods


def parse_period(text: str | None) -> int | None:
    """ISO 8601 duration in days/hours/minutes/seconds -> seconds (None: the whole window)."""
    if text is None:
        return None
    match = _DURATION.match(text)
    seconds = (
        0
        if not match
        else sum(
            int(match.group(unit) or 0) * factor
            for unit, factor in (("days", 86_400), ("hours", 3600), ("minutes", 60), ("seconds", 1))
        )
    )
    if seconds <= 0:
        raise BadRequestError(
            f"aggrPeriodDuration {text!r:.40}: give days, hours, minutes or seconds, e.g. PT1H "
            "(months and years have no fixed length)"
        )
    if seconds > MAX_PERIOD_S:
        raise BadRequestError(f"aggrPeriodDuration {text!r:.40} is longer than 1100 years")
    return seconds


def render_aggregated_attribute(
    aggregates: SeriesAggregates, methods: list[str], whole_window: tuple[datetime, datetime] | None
) -> dict[str, Any] | None:
    """The attribute's aggregated representation, or None when it has no readings."""
    p = aggregates.partials
    if whole_window is not None:
        p = per_series(p)
    if len(p) == 0:
        return None
    energetic = bool(aggregates.energetic[0])
    rendered: dict[str, Any] = {"type": "Property"}
    for method in (m for m in methods if m != DISTINCT_COUNT):
        values = STATISTICS[method](p, energetic)
        rendered[method] = [
            [
                None if np.isnan(v) else round(float(v), 6),
                *_period(int(b), aggregates, whole_window),
            ]
            for v, b in zip(values, p.bucket.tolist(), strict=True)
        ]
    return rendered


def _period(
    bucket: int, aggregates: SeriesAggregates, whole_window: tuple[datetime, datetime] | None
) -> list[str]:
    if whole_window is not None:
        return [iso_utc(whole_window[0]), iso_utc(whole_window[1])]
    start = from_epoch_us(bucket)
    return [iso_utc(start), iso_utc(start + timedelta(seconds=aggregates.period_s))]


def render_distinct_counts(
    counts: list[tuple[datetime, int]],
    period_s: int | None,
    whole_window: tuple[datetime, datetime] | None,
) -> list[list[Any]]:
    if whole_window is not None or period_s is None:
        start, end = whole_window or (counts[0][0], counts[-1][0])
        return [[float(n), iso_utc(start), iso_utc(end)] for _, n in counts]
    return [[float(n), iso_utc(at), iso_utc(at + timedelta(seconds=period_s))] for at, n in counts]
