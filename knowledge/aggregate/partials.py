"""Mergeable partial aggregates: the vectorised streaming-aggregation core.

A *partial* summarises the readings of one series (entity, attribute) in one
time window: count, sum, sum of squares, min, max, first and last value with
their times, the energetic sum ``sum(10^(L/10))`` for dB attributes, and a
fixed-bin histogram for percentiles.  Partials merge associatively and
commutatively, so late and out-of-order readings, several gateway workers and
roll-ups (1 min -> 15 min -> 1 h -> 1 day) all go through :func:`merge`.

Everything is columnar: a :class:`Partials` holds one numpy array per field
and one row per (series, window).  Grouping is one ``np.sort`` of a packed
int64 key (group, histogram bin, input position), which numpy runs with SIMD;
the statistics are then ``reduceat`` over the sorted runs.  Times are int64
microseconds since the Unix epoch; series are integer codes the caller maps.

Ties are resolved so the result never depends on input order: of several
readings at the first (last) time, ``first`` (``last``) is the smallest
(largest) value.  The store never holds two readings of a series at one time,
so ties only matter for raw input with duplicates.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

MINUTE_US = 60_000_000


@dataclass(frozen=True, slots=True)
class HistogramSpec:
    """Fixed bins ``[low + i*width, low + (i+1)*width)``; outliers go to the end bins."""

    low: float = 0.0
    width: float = 0.5
    bins: int = 320  # 0-160 dB in half decibels

    def bin_of(self, values: F64) -> I64:
        # Clipped while still floats: a value past int64 (1e300 dB is valid JSON) would cast to
        # garbage. Truncation is floor for every value that lands above bin 0.
        scaled = np.clip((values - self.low) * (1.0 / self.width), 0.0, float(self.bins - 1))
        return scaled.astype(np.int64)

    def lower_edge(self, bins: I64) -> F64:
        return self.low + bins.astype(np.float64) * self.width


DB_HISTOGRAM = HistogramSpec()


@dataclass(frozen=True, slots=True)
class Partials:
    """One row per (series, bucket), sorted by series then bucket (a long time-ordered
    input is summarised in slices of whole windows: then sorted within each slice).

    The histogram is sparse: entry ``k`` says ``hist_count[k]`` readings of row
    ``hist_row[k]`` fell in bin ``hist_bin[k]`` (sorted by row, then bin).
    Only energetic (dB) readings are binned.
    """

    series: I64
    bucket: I64
    count: I64
    total: F64
    total_sq: F64
    minimum: F64
    maximum: F64
    first_at: I64
    first: F64
    last_at: I64
    last: F64
    energy: F64
    hist_row: I64
    hist_bin: I64
    hist_count: I64

    def __len__(self) -> int:
        return int(self.series.size)

    def mean(self) -> F64:
        return self.total / self.count

    def energetic_mean_db(self) -> F64:
        """Leq per row: ``10*log10(energy/count)`` (NaN for rows with no dB readings)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.energy > 0, 10.0 * np.log10(self.energy / self.count), np.nan)

    def stddev(self) -> F64:
        """Population standard deviation per row."""
        mean = self.mean()
        return np.sqrt(np.maximum(self.total_sq / self.count - mean * mean, 0.0))

    def percentile(self, q: float, spec: HistogramSpec = DB_HISTOGRAM) -> F64:
        """The q-th percentile (0-100) per row from its histogram, interpolating linearly
        inside a bin (so within one bin width of the exact value); NaN without a histogram.

        Noise indicators: L10 (level exceeded 10% of the time) is ``percentile(90)``.
        """
        result = np.full(len(self), np.nan)
        if self.hist_row.size == 0:
            return result
        totals = np.bincount(self.hist_row, weights=self.hist_count, minlength=len(self))
        cumulative = np.cumsum(self.hist_count).astype(np.float64)
        before_row = np.concatenate(([0.0], np.cumsum(totals)[:-1]))
        rows = np.flatnonzero(totals > 0)
        target = before_row[rows] + totals[rows] * (q / 100.0)
        entry = np.minimum(np.searchsorted(cumulative, target), cumulative.size - 1)
        below = cumulative[entry] - self.hist_count[entry]
        fraction = np.clip((target - below) / self.hist_count[entry], 0.0, 1.0)
        result[rows] = spec.lower_edge(self.hist_bin[entry]) + fraction * spec.width
        return result


_HIST_FIELDS = ("hist_row", "hist_bin", "hist_count")
_ROW_FIELDS = tuple(f.name for f in fields(Partials) if f.name not in _HIST_FIELDS)


def _build(columns: dict[str, Any], hist_row: I64, hist_bin: I64, hist_count: I64) -> Partials:
    return Partials(**columns, hist_row=hist_row, hist_bin=hist_bin, hist_count=hist_count)


def empty_partials() -> Partials:
    ints, floats = np.empty(0, np.int64), np.empty(0, np.float64)
    columns = {
        name: ints if name in ("series", "bucket", "count", "first_at", "last_at") else floats
        for name in _ROW_FIELDS
    }
    return _build(columns, ints, ints, ints)


@dataclass(frozen=True, slots=True)
class _Grouping:
    """Sorted order of the input and where each group and each (group, bin) run starts."""

    order: I64
    group_starts: I64
    group_key: I64  # dense group index of each group
    run_starts: I64
    run_group: I64  # output row of each run
    run_bin: I64


def _group(group: I64, bins: I64, nbins: int) -> _Grouping:
    """Sorts by (group, bin) with one packed-key ``np.sort``; falls back to argsort if too wide."""
    n = group.size
    key = group * nbins + bins
    index_bits = max(int(n - 1).bit_length(), 1)
    if int(key.max(initial=0)).bit_length() + index_bits <= 62:
        packed = np.sort((key << index_bits) | np.arange(n, dtype=np.int64))
        order = packed & ((1 << index_bits) - 1)
        sorted_key = packed >> index_bits
    else:
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
    if nbins == 1:  # no histogram: every (group, bin) run is a group
        starts = _run_starts(sorted_key)
        return _Grouping(
            order, starts, sorted_key[starts], starts, np.arange(starts.size), starts * 0
        )
    sorted_group = sorted_key // nbins
    group_starts = _run_starts(sorted_group)
    run_starts = _run_starts(sorted_key)
    is_start = np.zeros(n, np.bool_)
    is_start[group_starts] = True
    row_of_position = np.cumsum(is_start) - 1
    return _Grouping(
        order=order,
        group_starts=group_starts,
        group_key=sorted_group[group_starts],
        run_starts=run_starts,
        run_group=row_of_position[run_starts],
        run_bin=sorted_key[run_starts] % nbins,
    )


def _run_starts(sorted_values: I64) -> I64:
    if sorted_values.size == 0:
        return np.empty(0, np.int64)
    changes = np.flatnonzero(sorted_values[1:] != sorted_values[:-1]) + 1
    return np.concatenate((np.zeros(1, np.int64), changes))


def _dense_groups(series: I64, bucket: I64, window_us: int) -> tuple[I64, int, int]:
    """Dense group index ``series * n_buckets + bucket_index`` and how to decode it."""
    origin = int(bucket.min(initial=0))
    index = (bucket - origin) // window_us
    n_buckets = int(index.max(initial=0)) + 1
    return series * n_buckets + index, n_buckets, origin


def _first_last(starts: I64, count: I64, times: I64, values: F64) -> tuple[I64, F64, I64, F64]:
    ends = starts + count - 1
    same_group = np.ones(times.size - 1, np.bool_)
    same_group[starts[1:] - 1] = False
    if not np.any(same_group & (times[1:] <= times[:-1])):
        # Times strictly increase inside every group (a stream without duplicates):
        # first and last are at the ends of each run, no ties possible.
        return times[starts], values[starts], times[ends], values[ends]
    first_at = np.minimum.reduceat(times, starts)
    last_at = np.maximum.reduceat(times, starts)
    at_first = times == np.repeat(first_at, count)
    at_last = times == np.repeat(last_at, count)
    first = np.minimum.reduceat(np.where(at_first, values, np.inf), starts)
    last = np.maximum.reduceat(np.where(at_last, values, -np.inf), starts)
    return first_at, first, last_at, last


# Streams arrive in time order: cut them into slices of whole windows this big, so
# every slice's temporaries stay in cache and slices never share a (series, window).
SLICE_READINGS = 1 << 18


def summarise(
    series: I64,
    times_us: I64,
    values: F64,
    window_us: int,
    energetic: Bools | None = None,
    spec: HistogramSpec | None = DB_HISTOGRAM,
) -> Partials:
    """Partials per (series, window) of raw readings, in any order.

    ``energetic`` marks dB readings: they get an energetic sum and, unless
    ``spec`` is None, histogram bins; other readings have energy 0 and no
    histogram entries.  (Fine windows skip the histogram: with a few
    readings per window it would be as large as the readings themselves.)
    """
    db = np.zeros(series.size, np.bool_) if energetic is None else energetic
    bucket = np.floor_divide(times_us, window_us) * window_us
    cuts = _slice_cuts(bucket)
    if cuts is None:
        return _summarise(series, times_us, values, window_us, db, spec, bucket)
    return concat_disjoint(
        [
            _summarise(
                series[lo:hi],
                times_us[lo:hi],
                values[lo:hi],
                window_us,
                db[lo:hi],
                spec,
                bucket[lo:hi],
            )
            for lo, hi in itertools.pairwise(cuts)
        ]
    )


def _slice_cuts(bucket: I64) -> list[int] | None:
    """Cut points between windows every ~SLICE_READINGS, when buckets never go back."""
    n = bucket.size
    if n < 2 * SLICE_READINGS or bool(np.any(bucket[1:] < bucket[:-1])):
        return None
    targets = bucket[np.arange(SLICE_READINGS, n, SLICE_READINGS)]
    cuts = np.searchsorted(bucket, targets, side="left")
    return sorted({0, n, *cuts.tolist()})


def _summarise(
    series: I64,
    times_us: I64,
    values: F64,
    window_us: int,
    db: Bools,
    spec: HistogramSpec | None,
    bucket: I64,
) -> Partials:
    if series.size == 0:
        return empty_partials()
    group, n_buckets, origin = _dense_groups(series, bucket, window_us)
    binned_db = db if spec is not None else np.zeros_like(db)
    bins = np.where(binned_db, spec.bin_of(values), 0) if spec is not None else np.zeros_like(group)
    g = _group(group, bins, spec.bins if spec is not None else 1)
    v, t, e = values[g.order], times_us[g.order], db[g.order]
    starts = g.group_starts
    count = np.diff(np.append(starts, series.size))
    first_at, first, last_at, last = _first_last(starts, count, t, v)
    # Extreme values (valid JSON numbers, e.g. 1e300) overflow a sum, a square or a power
    # to inf, as float8 arithmetic in PostgreSQL does: no warning, the row still stores.
    with np.errstate(over="ignore"):
        power = np.where(e, np.exp(v * (np.log(10.0) / 10.0)), 0.0) if e.any() else v * 0.0
        total = np.add.reduceat(v, starts)
        total_sq = np.add.reduceat(v * v, starts)
        energy = np.add.reduceat(power, starts)
    run_count = np.diff(np.append(g.run_starts, series.size))
    binned = binned_db[g.order][g.run_starts]
    columns = {
        "series": g.group_key // n_buckets,
        "bucket": (g.group_key % n_buckets) * window_us + origin,
        "count": count,
        "total": total,
        "total_sq": total_sq,
        "minimum": np.minimum.reduceat(v, starts),
        "maximum": np.maximum.reduceat(v, starts),
        "first_at": first_at,
        "first": first,
        "last_at": last_at,
        "last": last,
        "energy": energy,
    }
    return _build(columns, g.run_group[binned], g.run_bin[binned], run_count[binned])


def concat_disjoint(parts: list[Partials]) -> Partials:
    """The rows of all parts, in the given order (``merge`` combines any that share a
    (series, bucket); parts from disjoint time slices or series need nothing more)."""
    if len(parts) == 1:
        return parts[0]
    parts = [p for p in parts if len(p)] or [empty_partials()]
    offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
    return _build(
        {name: np.concatenate([getattr(p, name) for p in parts]) for name in _ROW_FIELDS},
        np.concatenate([p.hist_row + o for p, o in zip(parts, offsets, strict=True)]),
        np.concatenate([p.hist_bin for p in parts]),
        np.concatenate([p.hist_count for p in parts]),
    )


def merge(parts: list[Partials], window_us: int | None = None) -> Partials:
    """Combines partials of the same (series, bucket); re-buckets first if ``window_us``.

    ``window_us`` must be a multiple of the parts' window (a roll-up).
    """
    joined = concat_disjoint(parts)
    if len(joined) == 0:
        return joined
    rows = {name: getattr(joined, name) for name in _ROW_FIELDS}
    hist_row, hist_bin, hist_count = joined.hist_row, joined.hist_bin, joined.hist_count
    bucket = rows["bucket"]
    if window_us is not None:
        bucket = np.floor_divide(bucket, window_us) * window_us
    step = window_us or _common_step(bucket)
    group, n_buckets, origin = _dense_groups(rows["series"], bucket, step)
    g = _group(group, np.zeros_like(group), 1)
    starts = g.group_starts
    s = {name: column[g.order] for name, column in rows.items()}
    count = np.add.reduceat(s["count"], starts)
    first_at = np.minimum.reduceat(s["first_at"], starts)
    last_at = np.maximum.reduceat(s["last_at"], starts)
    sizes = np.diff(np.append(starts, g.order.size))
    at_first = s["first_at"] == np.repeat(first_at, sizes)
    at_last = s["last_at"] == np.repeat(last_at, sizes)
    columns = {
        "series": g.group_key // n_buckets,
        "bucket": (g.group_key % n_buckets) * step + origin,
        "count": count,
        "total": np.add.reduceat(s["total"], starts),
        "total_sq": np.add.reduceat(s["total_sq"], starts),
        "minimum": np.minimum.reduceat(s["minimum"], starts),
        "maximum": np.maximum.reduceat(s["maximum"], starts),
        "first_at": first_at,
        "first": np.minimum.reduceat(np.where(at_first, s["first"], np.inf), starts),
        "last_at": last_at,
        "last": np.maximum.reduceat(np.where(at_last, s["last"], -np.inf), starts),
        "energy": np.add.reduceat(s["energy"], starts),
    }
    new_row_of_input = np.empty(g.order.size, np.int64)
    new_row_of_input[g.order] = np.repeat(np.arange(starts.size), sizes)
    return _build(columns, *_merge_histograms(new_row_of_input[hist_row], hist_bin, hist_count))


def _merge_histograms(rows: I64, bins: I64, counts: I64) -> tuple[I64, I64, I64]:
    if rows.size == 0:
        return rows, bins, counts
    nbins = int(bins.max()) + 1
    g = _group(rows, bins, nbins)
    return rows[g.order][g.run_starts], g.run_bin, np.add.reduceat(counts[g.order], g.run_starts)


def _common_step(bucket: I64) -> int:
    """The largest step all bucket starts are a multiple of (their window when unknown)."""
    step = int(np.gcd.reduce(bucket)) if bucket.size else 1
    return abs(step) or 1


def rebucket(partials: Partials, window_us: int) -> Partials:
    """Roll-up to a coarser window (a multiple of the current one)."""
    return merge([partials], window_us)


def per_series(partials: Partials) -> Partials:
    """One row per series over all its windows."""
    return merge([replace(partials, bucket=np.zeros_like(partials.bucket))])
