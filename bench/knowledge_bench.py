"""Knowledge layer: the aggregation core, ingest paths and roll-up-backed query latency.

Every section compares against a baseline measured in the same run:

- aggregation: the numpy core (``knowledge.aggregate.partials.summarise``) against a naive
  pure-Python dict implementation and a polars ``group_by`` computing the same
  statistics (count, sum, sum of squares, min, max, first/last by time, energy,
  and the histogram where the core keeps one) on the same readings;
- ingest: binary COPY built by numpy against ``executemany`` INSERT (and psycopg's
  row-by-row text COPY) into an indexed table of a private PostgreSQL;
- queries: temporal aggregates read from the roll-ups (1 entity x 30 days of
  1-minute data -> hourly; 1,000 entities x 1 day -> 15 min), p50/p95, against the
  same query answered from raw rows.

Prints one JSON document (``--markdown`` adds a table).

    .venv/bin/python bench/knowledge_bench.py --markdown
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acquisition import Batch, EntityRecord, Reading, ValueType  # noqa: E402
from ciudad.database import open_store_at  # noqa: E402
from knowledge import PostgresStore, TimeRange, start_embedded_postgres  # noqa: E402
from knowledge.aggregate.partials import DB_HISTOGRAM, HistogramSpec, summarise  # noqa: E402
from knowledge.postgres.bulk import Column, CopyTransfer  # noqa: E402
from support.times import from_epoch_us  # noqa: E402

MINUTE_US = 60_000_000


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---- aggregation --------------------------------------------------------------------------
def fleet_day(sensors: int, interval_s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One day of readings from every sensor, arriving time-major as a stream does."""
    rng = np.random.default_rng(7)
    steps = 86_400 // interval_s
    times = np.repeat(np.arange(steps, dtype=np.int64) * interval_s * 1_000_000, sensors)
    times += rng.integers(0, 1_000_000, times.size)  # sub-second jitter
    series = np.tile(np.arange(sensors, dtype=np.int64), steps)
    values = np.round(rng.normal(60.0, 8.0, times.size), 1)
    return series, times, values


def naive(
    series: list[int],
    times: list[int],
    values: list[float],
    window: int,
    hist: HistogramSpec | None,
) -> dict[tuple[int, int], list[Any]]:
    acc: dict[tuple[int, int], list[Any]] = {}
    for s, t, v in zip(series, times, values, strict=True):
        key = (s, t // window * window)
        a = acc.get(key)
        e = 10.0 ** (v / 10.0)
        if a is None:
            a = acc[key] = [0, 0.0, 0.0, v, v, t, v, t, v, 0.0, {}]
        a[0] += 1
        a[1] += v
        a[2] += v * v
        a[3] = min(a[3], v)
        a[4] = max(a[4], v)
        if t < a[5] or (t == a[5] and v < a[6]):
            a[5], a[6] = t, v
        if t > a[7] or (t == a[7] and v > a[8]):
            a[7], a[8] = t, v
        a[9] += e
        if hist is not None:
            b = min(max(int((v - hist.low) / hist.width), 0), hist.bins - 1)
            a[10][b] = a[10].get(b, 0) + 1
    return acc


def with_polars(frame: pl.DataFrame, window: int, hist: HistogramSpec | None) -> None:
    g = frame.with_columns(b=(pl.col("t") // window) * window, e=10.0 ** (pl.col("v") / 10.0))
    g.group_by("s", "b").agg(
        pl.len(),
        pl.col("v").sum().alias("total"),
        (pl.col("v") ** 2).sum().alias("sq"),
        pl.col("v").min().alias("lo"),
        pl.col("v").max().alias("hi"),
        pl.col("t").min().alias("ft"),
        pl.col("v").sort_by("t", "v").first().alias("f"),
        pl.col("t").max().alias("lt"),
        pl.col("v").sort_by("t", "v").last().alias("l"),
        pl.col("e").sum(),
    )
    if hist is not None:
        bins = ((pl.col("v") - hist.low) / hist.width).cast(pl.Int64).clip(0, hist.bins - 1)
        g.with_columns(bin=bins).group_by("s", "b", "bin").len()


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def bench_aggregation(sensors: int, interval_s: int, naive_readings: int) -> list[dict[str, Any]]:
    series, times, values = fleet_day(sensors, interval_s)
    n = series.size
    energetic = np.ones(n, np.bool_)
    frame = pl.DataFrame({"s": series, "t": times, "v": values})
    head = (
        series[:naive_readings].tolist(),
        times[:naive_readings].tolist(),
        values[:naive_readings].tolist(),
    )
    results = []
    for minutes, hist in ((1, None), (15, DB_HISTOGRAM), (60, DB_HISTOGRAM)):
        window = minutes * MINUTE_US
        progress(f"aggregation: {n:,} readings into {minutes}-min windows")
        core = min(
            timed(functools.partial(summarise, series, times, values, window, energetic, hist))
            for _ in range(3)
        )
        polars = min(timed(functools.partial(with_polars, frame, window, hist)) for _ in range(3))
        slow = timed(functools.partial(naive, *head, window, hist))
        rates = {"core": n / core, "polars": n / polars, "naive": naive_readings / slow}
        results.append(
            {
                "window_min": minutes,
                "histogram": hist is not None,
                "readings": n,
                "readings_per_s": {k: round(v) for k, v in rates.items()},
                "core_vs_naive": round(rates["core"] / rates["naive"], 1),
                "core_vs_polars": round(rates["core"] / rates["polars"], 2),
            }
        )
    return results


# ---- ingest -------------------------------------------------------------------------------
INGEST_DDL = """
DROP TABLE IF EXISTS bench_obs;
CREATE TABLE bench_obs (
    series_id integer NOT NULL, observed_at timestamptz NOT NULL, num double precision NOT NULL,
    PRIMARY KEY (series_id, observed_at)
);
"""
INGEST_COLUMNS = (
    Column("series_id", "int4"),
    Column("observed_at", "timestamptz"),
    Column("num", "float8"),
)


async def bench_ingest(dsn: str, rows: int) -> dict[str, Any]:
    import psycopg

    series, times, values = fleet_day(1000, 10)
    data = {
        "series_id": series[:rows].astype(np.int32),
        "observed_at": times[:rows],
        "num": values[:rows],
    }
    as_rows = [
        (int(s), from_epoch_us(int(t)), float(v))
        for s, t, v in zip(data["series_id"], data["observed_at"], data["num"], strict=True)
    ]
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:

        async def run(load: Callable[[Any], Awaitable[None]], count: int) -> float:
            await conn.execute(INGEST_DDL)
            async with conn.cursor() as cur:
                started = time.perf_counter()
                async with conn.transaction():
                    await load(cur)
                return count / (time.perf_counter() - started)

        progress(f"ingest: {rows:,} rows by binary COPY")
        binary = await run(
            lambda cur: CopyTransfer().load(cur, "bench_obs", INGEST_COLUMNS, data), rows
        )
        progress(f"ingest: {rows:,} rows by text COPY, row by row")
        text = await run(
            lambda cur: CopyTransfer().load_rows(
                cur, "bench_obs", ["series_id", "observed_at", "num"], as_rows
            ),
            rows,
        )
        few = min(rows, 100_000)
        progress(f"ingest: {few:,} rows by executemany")
        many = await run(
            lambda cur: cur.executemany("INSERT INTO bench_obs VALUES (%s, %s, %s)", as_rows[:few]),
            few,
        )
    return {
        "rows": rows,
        "rows_per_s": {
            "binary_copy": round(binary),
            "text_copy": round(text),
            "executemany": round(many),
        },
        "binary_copy_vs_executemany": round(binary / many, 1),
    }


# ---- queries ------------------------------------------------------------------------------
DAY0 = datetime(2026, 10, 1, tzinfo=UTC)


def _entity(i: int) -> str:
    return f"urn:ngsi-ld:NoiseLevelObserved:bench:n{i:04d}"


async def load_minutes(store: PostgresStore, entities: range, days: int) -> int:
    """One reading per entity per minute through the store's normal write path."""
    rng = np.random.default_rng(3)
    records = tuple(EntityRecord("bench", _entity(i), "NoiseLevelObserved", {}) for i in entities)
    minutes = days * 1440
    written = 0
    per_batch = max(1, 50_000 // len(entities))
    for start in range(0, minutes, per_batch):
        readings = tuple(
            Reading(
                "bench",
                _entity(i),
                "NoiseLevelObserved",
                "LAeq",
                DAY0 + timedelta(minutes=m),
                round(float(rng.normal(60, 8)), 1),
                ValueType.NUMBER,
                "2N",
            )
            for m in range(start, min(start + per_batch, minutes))
            for i in entities
        )
        await store.write_batch(Batch(readings, records, ()))
        written += len(readings)
        if start % (per_batch * 20) == 0:
            progress(f"queries: loaded {written:,} readings")
    return written


async def latency(run: Callable[[], Awaitable[object]], times: int) -> dict[str, float]:
    await run()  # warm-up
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
        "runs": times,
    }


async def bench_queries(dsn: str, fleet: int, runs: int) -> dict[str, Any]:
    store = await open_store_at(dsn)
    try:
        one = await load_minutes(store, range(1), 30)
        many = await load_minutes(store, range(1, fleet + 1), 1)
        month = TimeRange(DAY0, DAY0 + timedelta(days=30))
        day = TimeRange(DAY0, DAY0 + timedelta(days=1))
        # Shifting the window by a second makes it fit no roll-up: the raw-row baseline.
        month_raw = TimeRange(DAY0 + timedelta(seconds=1), DAY0 + timedelta(days=30, seconds=1))
        day_raw = TimeRange(DAY0 + timedelta(seconds=1), DAY0 + timedelta(days=1, seconds=1))

        async def hourly(window: TimeRange) -> object:
            return await store.aggregate("bench", "LAeq", 3600, window, entity_ids=[_entity(0)])

        async def quarter(window: TimeRange) -> object:
            return await store.aggregate(
                "bench",
                "LAeq",
                900,
                window,
                "NoiseLevelObserved",
                [_entity(i) for i in range(1, fleet + 1)],
            )

        progress("queries: timing")
        return {
            "one_entity_30_days_hourly": {
                "readings": one,
                "rollups": await latency(lambda: hourly(month), runs),
                "raw_rows": await latency(lambda: hourly(month_raw), max(3, runs // 10)),
            },
            f"{fleet}_entities_1_day_15_min": {
                "readings": many,
                "rollups": await latency(lambda: quarter(day), runs),
                "raw_rows": await latency(lambda: quarter(day_raw), max(3, runs // 10)),
            },
        }
    finally:
        await store.close()


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| window | histogram | core readings/s | polars | naive | core/naive | core/polars |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["aggregation"]:
        rate = r["readings_per_s"]
        lines.append(
            f"| {r['window_min']} min | {'yes' if r['histogram'] else 'no'} | "
            f"{rate['core']:,} | {rate['polars']:,} | {rate['naive']:,} | "
            f"{r['core_vs_naive']}x | {r['core_vs_polars']}x |"
        )
    ingest = report["ingest"]["rows_per_s"]
    lines += ["", "| ingest | rows/s |", "|---|---|"]
    lines += [f"| {k} | {v:,} |" for k, v in ingest.items()]
    lines += ["", "| query | roll-ups p50 / p95 ms | raw rows p50 / p95 ms |", "|---|---|---|"]
    for name, q in report["queries"].items():
        lines.append(
            f"| {name} | {q['rollups']['p50_ms']} / {q['rollups']['p95_ms']} | "
            f"{q['raw_rows']['p50_ms']} / {q['raw_rows']['p95_ms']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--interval-s", type=int, default=10, help="seconds between readings")
    parser.add_argument("--naive-readings", type=int, default=1_000_000)
    parser.add_argument("--ingest-rows", type=int, default=1_000_000)
    parser.add_argument("--fleet", type=int, default=1000, help="entities in the fleet query")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "aggregation": bench_aggregation(args.sensors, args.interval_s, args.naive_readings)
    }
    with tempfile.TemporaryDirectory(prefix="ciudad-bench-") as directory:
        dsn = start_embedded_postgres(Path(directory))
        report["ingest"] = asyncio.run(bench_ingest(dsn, args.ingest_rows))
        report["queries"] = asyncio.run(bench_queries(dsn, args.fleet, args.runs))
    print(json.dumps(report, indent=2))
    if args.markdown:
        print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
