"""The PostgreSQL store against a real server: idempotent writes, state, history, partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from acquisition import Batch, DeadLetter, EntityRecord, Reading, ValueType
from ciudad.database import open_store_at
from knowledge import Partitioning, PostgresStore, TimeRange
from support import NotFoundError

pytestmark = pytest.mark.integration


@pytest.fixture
def store(backend_store: PostgresStore) -> PostgresStore:
    """The shared suite: every test here runs on each backend."""
    return backend_store


T0 = datetime(2026, 11, 20, 23, 58, tzinfo=UTC)
NOISE_ID = "urn:ngsi-ld:NoiseLevelObserved:leon:n1"
LOCATION = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.56, 42.6]}}


def _noise(minute: int, level: float, tenant: str = "leon") -> Reading:
    return Reading(
        tenant,
        NOISE_ID,
        "NoiseLevelObserved",
        "LAeq",
        T0 + timedelta(minutes=minute),
        level,
        ValueType.NUMBER,
        "2N",
    )


def _batch(*readings: Reading, tenant: str = "leon") -> Batch:
    entity = EntityRecord(tenant, NOISE_ID, "NoiseLevelObserved", {"location": LOCATION})
    return Batch(readings, (entity,), ())


async def _count(store: PostgresStore, tenant: str = "leon") -> int:
    history = await store.history(tenant, NOISE_ID, ["LAeq"], TimeRange())
    return len(history[0].values) if history else 0


async def test_replaying_a_batch_does_not_double_count(store: PostgresStore) -> None:
    batch = _batch(*(_noise(m, 50.0 + m) for m in range(5)))
    await store.write_batch(batch)
    await store.write_batch(batch)
    await store.write_batch(_batch(_noise(2, 52.0), _noise(2, 52.0)))
    assert await _count(store) == 5


async def test_state_keeps_the_newest_value_even_when_older_data_arrives_late(
    store: PostgresStore,
) -> None:
    await store.write_batch(_batch(_noise(10, 70.0)))
    await store.write_batch(_batch(_noise(3, 40.0)))  # late, older
    state = await store.get_entity("leon", NOISE_ID)
    laeq = next(a for a in state.attributes if a.name == "LAeq")
    assert (laeq.value, laeq.observed_at, laeq.unit_code) == (
        70.0,
        T0 + timedelta(minutes=10),
        "2N",
    )
    assert state.static["location"] == LOCATION
    assert await _count(store) == 2


async def test_readings_across_midnight_land_in_daily_partitions(store: PostgresStore) -> None:
    await store.write_batch(_batch(_noise(0, 50.0), _noise(5, 51.0)))  # 23:58 and 00:03
    async with store.connection() as conn:
        if store.partitioning is Partitioning.TIMESCALEDB:
            cur = await conn.execute("SELECT count(*) FROM show_chunks('ciudad_observations')")
            assert await cur.fetchone() == (2,)
            return
        cur = await conn.execute(
            "SELECT tableoid::regclass::text, count(*) FROM ciudad_observations GROUP BY 1"
        )
        rows = await cur.fetchall()
    assert dict(rows) == {"ciudad_observations_p20261120": 1, "ciudad_observations_p20261121": 1}


async def test_history_window_and_last_n(store: PostgresStore) -> None:
    await store.write_batch(_batch(*(_noise(m, float(m)) for m in range(10))))
    window = TimeRange(T0 + timedelta(minutes=2), T0 + timedelta(minutes=5))
    (history,) = await store.history("leon", NOISE_ID, ["LAeq"], window)
    assert history.values == (2.0, 3.0, 4.0)  # start inclusive, end exclusive, oldest first
    (last,) = await store.history("leon", NOISE_ID, None, TimeRange(), last_n=3)
    assert last.values == (7.0, 8.0, 9.0)
    assert last.unit_code == "2N"


async def test_tenants_are_isolated(store: PostgresStore) -> None:
    await store.write_batch(_batch(_noise(1, 50.0, tenant="leon"), tenant="leon"))
    with pytest.raises(NotFoundError):
        await store.get_entity("ponferrada", NOISE_ID)
    assert await store.list_entities("ponferrada", None, 10, 0) == []
    assert await store.count_entities("leon", "NoiseLevelObserved") == 1


async def test_numeric_series_are_numpy_arrays_per_entity(store: PostgresStore) -> None:
    await store.write_batch(_batch(*(_noise(m, 60.0 + m) for m in range(4))))
    (series,) = await store.numeric_series("leon", "NoiseLevelObserved", "LAeq", TimeRange())
    assert series.entity_id == NOISE_ID
    assert series.values.tolist() == [60.0, 61.0, 62.0, 63.0]
    assert str(series.times[0]) == "2026-11-20T23:58:00.000000"


async def test_dead_letters_are_stored_and_listed_newest_first(store: PostgresStore) -> None:
    letters = tuple(
        DeadLetter(T0, "/json/k/d/attrs", f"payload {n}\x00", "bad_json", "detail", "leon", "d")
        for n in range(3)
    )
    await store.write_batch(Batch((), (), letters))
    stored = await store.dead_letters("leon", 10)
    assert [d.payload for d in stored] == ["payload 2\ufffd", "payload 1\ufffd", "payload 0\ufffd"]
    assert await store.dead_letters("other", 10) == []


async def test_schema_creation_is_idempotent(database_url: str) -> None:
    first = await open_store_at(database_url, max_size=1)
    second = await open_store_at(database_url, max_size=1)
    await first.close()
    await second.close()


async def test_export_streams_a_types_observations_in_the_window(store: PostgresStore) -> None:
    await store.write_batch(_batch(*(_noise(m, 50.0 + m) for m in range(6))))
    await store.write_batch(_batch(_noise(1, 99.0, tenant="ponferrada"), tenant="ponferrada"))
    window = TimeRange(T0 + timedelta(minutes=1), T0 + timedelta(minutes=4))
    rows = [r async for r in store.export_rows("leon", "NoiseLevelObserved", None, window)]
    assert [(r.entity_id, r.observed_at, r.attr, r.value, r.unit_code) for r in rows] == [
        (NOISE_ID, T0 + timedelta(minutes=m), "LAeq", 50.0 + m, "2N") for m in (1, 2, 3)
    ]
    assert [r async for r in store.export_rows("leon", "Streetlight", None, window)] == []


async def test_history_rows_come_back_exactly_as_written(store: PostgresStore) -> None:
    """Each batch's history goes in as binary COPY rows built while staging: microseconds,
    times before 2000, texts beyond ASCII, extreme numbers."""
    times = [datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), T0.replace(microsecond=7)]
    numbers = [-1.5e300, 61.234567890123]
    readings = [
        Reading("leon", NOISE_ID, "NoiseLevelObserved", "LAeq", t, v, ValueType.NUMBER, "2N")
        for t, v in zip(times, numbers, strict=True)
    ] + [
        Reading("leon", NOISE_ID, "NoiseLevelObserved", "note", t, text, ValueType.TEXT)
        for t, text in zip(times, ["señal ✓", "x" * 5000], strict=True)
    ]
    await store.write_batch(_batch(*readings))
    history = await store.history("leon", NOISE_ID, ["LAeq", "note"], TimeRange())
    got = {h.name: (h.times, h.values) for h in history}
    assert got == {
        "LAeq": (tuple(times), tuple(numbers)),
        "note": (tuple(times), ("señal ✓", "x" * 5000)),
    }
