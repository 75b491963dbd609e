"""Persisted roll-ups on each backend: maintained as data arrive, replays add nothing,
aggregate queries read them and equal the raw data's aggregates; retention."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest

from acquisition import Batch, DeadLetter, EntityRecord, Reading, ValueType
from ciudad.database import open_store_at
from knowledge import KeptInstance, Partitioning, PostgresStore, TimeRange
from knowledge.aggregate.indicators import day_noise
from knowledge.postgres.retention import RetentionPolicy

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
ENTITIES = [f"urn:ngsi-ld:NoiseLevelObserved:leon:n{i}" for i in range(3)]


@pytest.fixture
def store(backend_store: PostgresStore) -> PostgresStore:
    return backend_store


def _readings(seed: int, n: int, hours: float = 4.0) -> list[Reading]:
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, int(hours * 3600), n)
    return [
        Reading(
            "leon",
            ENTITIES[int(rng.integers(0, len(ENTITIES)))],
            "NoiseLevelObserved",
            "LAeq",
            T0 + timedelta(seconds=int(s)),
            round(float(rng.normal(60, 8)), 1),
            ValueType.NUMBER,
            "2N",
        )
        for s in offsets
    ]


def _laeq(at: datetime, level: float) -> Reading:
    return Reading(
        "leon", ENTITIES[0], "NoiseLevelObserved", "LAeq", at, level, ValueType.NUMBER, "2N"
    )


def _entities() -> tuple[EntityRecord, ...]:
    return tuple(EntityRecord("leon", e, "NoiseLevelObserved", {}) for e in ENTITIES)


async def _write(store: PostgresStore, readings: list[Reading], size: int = 97) -> None:
    for start in range(0, len(readings), size):
        await store.write_batch(Batch(tuple(readings[start : start + size]), _entities(), ()))


def _unique(readings: list[Reading]) -> dict[tuple[str, datetime], float]:
    """What the store keeps: the first reading of an entity at a time (later ones are replays)."""
    kept: dict[tuple[str, datetime], float] = {}
    for r in readings:
        kept.setdefault((r.entity_id, r.observed_at), float(r.value))
    return kept


def _expected(kept: dict[tuple[str, datetime], float], period_s: int) -> dict[tuple, tuple]:
    groups: dict[tuple[str, datetime], list[float]] = {}
    for (entity, at), value in kept.items():
        seconds = int(at.timestamp())
        start = datetime.fromtimestamp(seconds - seconds % period_s, UTC)
        groups.setdefault((entity, start), []).append(value)
    out = {}
    for key, values in groups.items():
        v = np.array(values)
        leq = 10 * np.log10(np.mean(np.power(10.0, v / 10)))
        out[key] = (v.size, v.min(), v.max(), v.mean(), leq)
    return out


def _actual(result, period_s: int) -> dict[tuple, tuple]:  # type: ignore[no-untyped-def]
    p = result.partials
    buckets = p.bucket.astype("datetime64[us]").astype(datetime)
    leq = p.energetic_mean_db()
    return {
        (result.entity_ids[s], b.replace(tzinfo=UTC)): (n, lo, hi, m, e)
        for s, b, n, lo, hi, m, e in zip(
            p.series, buckets, p.count, p.minimum, p.maximum, p.mean(), leq, strict=True
        )
    }


def _assert_same(actual: dict[tuple, tuple], expected: dict[tuple, tuple]) -> None:
    assert actual.keys() == expected.keys()
    for key, want in expected.items():
        assert actual[key][:3] == want[:3], key
        assert np.allclose(actual[key][3:], want[3:]), key


@pytest.mark.parametrize(
    ("period_s", "resolution_s"),
    [(60, 60), (120, 60), (900, 900), (1800, 900), (3600, 3600), (86_400, 86_400), (45, None)],
)
async def test_aggregates_from_rollups_equal_the_raw_data(
    store: PostgresStore, period_s: int, resolution_s: int | None
) -> None:
    readings = _readings(1, 600)
    late = _readings(2, 150)  # an older stretch arriving after newer data
    await _write(store, readings)
    await _write(store, late, size=41)
    window = TimeRange(datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC))
    result = await store.aggregate("leon", "LAeq", period_s, window, "NoiseLevelObserved")
    assert result.resolution_s == resolution_s
    assert all(result.energetic)
    _assert_same(_actual(result, period_s), _expected(_unique(readings + late), period_s))


async def test_replayed_batches_do_not_change_the_rollups(store: PostgresStore) -> None:
    readings = _readings(3, 300)
    await _write(store, readings)
    await _write(store, readings[100:250], size=13)  # a spool replay, cut differently
    shifted = [  # same entity and time, another value: a duplicate, the first one stays
        Reading(
            r.tenant,
            r.entity_id,
            r.entity_type,
            r.attr,
            r.observed_at,
            99.0,
            r.value_type,
            r.unit_code,
        )
        for r in readings[:20]
    ]
    await _write(store, shifted)
    result = await store.aggregate("leon", "LAeq", 900, TimeRange(), "NoiseLevelObserved")
    _assert_same(_actual(result, 900), _expected(_unique(readings), 900))


@pytest.mark.parametrize("period_s", [60, 900, 3600, 86_400])
async def test_deleted_instances_leave_the_rollups_equal_to_the_remaining_data(
    store: PostgresStore, period_s: int
) -> None:
    readings = _readings(4, 300)
    await _write(store, readings)
    kept = _unique(readings)
    for entity_id, at in sorted(kept)[::7]:  # every seventh observation goes
        await store.delete_instance("leon", entity_id, "LAeq", at)
        del kept[(entity_id, at)]
    result = await store.aggregate("leon", "LAeq", period_s, TimeRange(), "NoiseLevelObserved")
    assert result.resolution_s == period_s
    _assert_same(_actual(result, period_s), _expected(kept, period_s))


async def test_percentiles_come_from_the_rollup_histograms(store: PostgresStore) -> None:
    readings = _readings(4, 500, hours=1.0)
    await _write(store, readings)
    result = await store.aggregate(
        "leon", "LAeq", 3600, TimeRange(), entity_ids=[ENTITIES[0]], percentiles=True
    )
    assert result.resolution_s == 3600
    values = np.array([v for (e, _), v in _unique(readings).items() if e == ENTITIES[0]])
    for q in (10.0, 50.0, 90.0):
        exact = np.percentile(values, q, method="inverted_cdf")
        assert abs(result.partials.percentile(q)[0] - exact) <= 0.5


async def test_a_window_not_aligned_to_any_rollup_reads_raw_rows(store: PostgresStore) -> None:
    readings = _readings(5, 200)
    await _write(store, readings)
    start = T0 + timedelta(seconds=30)
    result = await store.aggregate(
        "leon", "LAeq", 3600, TimeRange(start, start + timedelta(hours=2)), "NoiseLevelObserved"
    )
    assert result.resolution_s is None
    kept = {
        k: v for k, v in _unique(readings).items() if start <= k[1] < start + timedelta(hours=2)
    }
    assert int(result.partials.count.sum()) == len(kept)


async def test_unknown_attribute_or_tenant_gives_no_series(store: PostgresStore) -> None:
    await _write(store, _readings(6, 20))
    assert len((await store.aggregate("leon", "LAmax", 60, TimeRange())).partials) == 0
    assert (await store.aggregate("ponferrada", "LAeq", 60, TimeRange())).entity_ids == ()


async def test_retention_drops_old_raw_data_and_fine_rollups(store: PostgresStore) -> None:
    old = [_laeq(T0 - timedelta(days=40, minutes=m), 50.0) for m in range(5)]
    recent = _readings(7, 50)
    await _write(store, old + recent)
    place = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.6, 42.6]}}
    kept = [KeptInstance("location", at, None, place) for at in (T0 - timedelta(days=40), T0)]
    await store.append_attributes("leon", ENTITIES[0], {"location": place}, (), kept=tuple(kept))
    policy = RetentionPolicy(raw_days=30, rollup_days={60: 30, 900: None})
    report = await store.apply_retention(policy, now=T0 + timedelta(hours=5))
    assert report.dropped_partitions, "the 40-day-old day went"
    assert report.deleted_rollups[60] == 5  # five 1-minute buckets of the old day
    history = await store.history("leon", ENTITIES[0], ["LAeq"], TimeRange())
    assert min(history[0].times) >= T0
    places = await store.instance_history("leon", ENTITIES[0], ["location"], TimeRange())
    assert [p.observed_at for p in places] == [T0], "kept instances follow the raw retention"
    quarter = await store.aggregate("leon", "LAeq", 900, TimeRange(), entity_ids=[ENTITIES[0]])
    assert int(quarter.partials.count.sum()) == len(old) + sum(
        1 for (e, _) in _unique(recent) if e == ENTITIES[0]
    ), "15-min roll-ups are kept forever here"
    if store.partitioning is Partitioning.NATIVE:
        assert all(name.startswith("ciudad_observations_p") for name in report.dropped_partitions)


async def test_retention_deletes_dead_letters_past_their_age_and_keeps_the_rest(
    store: PostgresStore,
) -> None:
    def refused(at: datetime, n: int) -> DeadLetter:
        return DeadLetter(at, "/json/k/d/attrs", f"flood {n}", "rate_limited", "over", "leon", "d")

    old = [refused(T0 - timedelta(days=31, minutes=n), n) for n in range(3)]
    recent = [refused(T0 - timedelta(days=29, minutes=n), 100 + n) for n in range(2)]
    await store.write_batch(Batch((), (), tuple(old + recent)))
    forever = RetentionPolicy(raw_days=None, rollup_days={}, dead_letter_days=None)
    assert (await store.apply_retention(forever, now=T0)).deleted_dead_letters == 0
    assert len(await store.dead_letters("leon", 10)) == 5
    month = RetentionPolicy(raw_days=None, rollup_days={}, dead_letter_days=30)
    assert (await store.apply_retention(month, now=T0)).deleted_dead_letters == 3
    kept = await store.dead_letters("leon", 10)
    assert sorted(d.payload for d in kept) == ["flood 100", "flood 101"]


async def test_lden_of_a_day_from_the_quarter_hour_rollups(store: PostgresStore) -> None:
    # Madrid, November (UTC+1): local 07-19 at 60 dB, 19-23 at 55 dB, 23-07 at 50 dB,
    # one reading a minute from 07:00 local on the 20th to 07:00 local on the 21st.
    start = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    readings = []
    for minute in range(24 * 60):
        local_hour = (7 + minute // 60) % 24
        level = 60.0 if 7 <= local_hour < 19 else 55.0 if 19 <= local_hour < 23 else 50.0
        readings.append(_laeq(start + timedelta(minutes=minute), level))
    await _write(store, readings, size=500)
    window = TimeRange(start, start + timedelta(days=1))
    quarter = await store.aggregate("leon", "LAeq", 900, window, entity_ids=[ENTITIES[0]])
    assert quarter.resolution_s == 900
    (day,) = day_noise(quarter)
    assert day.day.isoformat() == "2026-11-20"
    assert (day.ld, day.le, day.ln) == pytest.approx((60.0, 55.0, 50.0))
    assert day.lden == pytest.approx(60.0)


async def test_ciudad_retention_command_applies_the_configured_policy(
    database_url: str, tmp_path: Path
) -> None:
    store = await open_store_at(database_url, max_size=1)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    noon_ten_days_ago = datetime.combine(now.date() - timedelta(days=10), time(12), UTC)
    old = [_laeq(noon_ten_days_ago + timedelta(minutes=m), 50.0) for m in range(3)]
    try:
        await _write(store, [*old, _laeq(now, 51.0)])
        refused = DeadLetter(noon_ten_days_ago, "/json/k/d/attrs", "{", "bad_json", "x", "leon")
        await store.write_batch(Batch((), (), (refused,)))
    finally:
        await store.close()
    env = dict(
        os.environ,
        CIUDAD_DATABASE_URL=database_url,
        CIUDAD_DATA_DIR=str(tmp_path),
        CIUDAD_RETENTION_RAW_DAYS="5",
        CIUDAD_MAX_PAST_AGE_S=str(4 * 86400),
        CIUDAD_RETENTION_MINUTE_DAYS="5",
        CIUDAD_RETENTION_DEAD_LETTER_DAYS="5",
    )
    result = subprocess.run(
        [sys.executable, "-m", "ciudad", "retention"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "dropped 1 raw partitions/chunks" in result.stdout
    assert "deleted 3 roll-up rows at 60 s resolution" in result.stdout
    assert "deleted 1 dead letters" in result.stdout
    store = await open_store_at(database_url, max_size=1)
    try:
        (history,) = await store.history("leon", ENTITIES[0], ["LAeq"], TimeRange())
    finally:
        await store.close()
    assert history.values == (51.0,)
