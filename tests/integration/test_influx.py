"""The InfluxDB mirror: our line protocol written to a real InfluxDB 1.6.7 and read back
with InfluxQL; an unreachable InfluxDB fails the batch (so the gateway spools it)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from acquisition import Batch, EntityRecord, Reading, ValueType
from ciudad.database import open_store_at
from knowledge import TimeRange
from knowledge.influx import InfluxMirror, InfluxV1Writer, InfluxV2Writer, line_protocol
from support import StoreUnavailableError
from support.net import free_port
from tests.helpers.influx import influx_query

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC)
AWKWARD_ID = 'urn:ngsi-ld:Streetlight:leon:a b,c=d\\e"f'


def _readings() -> list[Reading]:
    return [
        Reading(
            "leon",
            AWKWARD_ID,
            "Streetlight",
            "powerConsumption",
            T0,
            35.25,
            ValueType.NUMBER,
            "WTT",
        ),
        Reading(
            "leon",
            AWKWARD_ID,
            "Streetlight",
            "status",
            T0,
            'on "dimmed" \\ ok',
            ValueType.TEXT,
            None,
        ),
        Reading(
            "leon",
            AWKWARD_ID,
            "Streetlight",
            "powerConsumption",
            T0 + timedelta(seconds=1),
            1e-05,
            ValueType.NUMBER,
            "WTT",
        ),
        Reading(
            "ponferrada", "urn:x", "Air Quality,Observed", "no2", T0, 41.0, ValueType.NUMBER, None
        ),
    ]


def _new_database(url: str) -> str:
    database = f"t_{uuid.uuid4().hex[:12]}"
    influx_query(url, database, f'CREATE DATABASE "{database}"')
    return database


async def test_line_protocol_round_trips_through_influxdb(influxd: str, database_url: str) -> None:
    database = _new_database(influxd)
    store = await open_store_at(
        database_url, max_size=1, mirror=InfluxMirror(InfluxV1Writer(influxd, database))
    )
    entities = (EntityRecord("leon", AWKWARD_ID, "Streetlight", {}),)
    try:
        await store.write_batch(Batch(tuple(_readings()), entities, ()))
        (history,) = await store.history("leon", AWKWARD_ID, ["powerConsumption"], TimeRange())
        assert history.values == (35.25, 1e-05), "PostgreSQL stays the system of record"
    finally:
        await store.close()
    answer = influx_query(influxd, database, 'SELECT * FROM "Streetlight"')
    (series,) = answer["results"][0]["series"]
    rows = [dict(zip(series["columns"], values, strict=True)) for values in series["values"]]
    first_ns = int(T0.timestamp()) * 10**9 + 123456 * 1000
    assert rows == [
        {
            "time": first_ns,
            "entity_id": AWKWARD_ID,
            "tenant": "leon",
            "powerConsumption": 35.25,
            "status": 'on "dimmed" \\ ok',
        },
        {
            "time": first_ns + 10**9,
            "entity_id": AWKWARD_ID,
            "tenant": "leon",
            "powerConsumption": 1e-05,
            "status": None,
        },
    ]
    other = influx_query(influxd, database, 'SELECT no2, tenant FROM "Air Quality,Observed"')
    assert other["results"][0]["series"][0]["values"] == [[first_ns, 41.0, "ponferrada"]]


async def test_rewriting_the_same_batch_overwrites_points(influxd: str, database_url: str) -> None:
    database = _new_database(influxd)
    store = await open_store_at(
        database_url, max_size=1, mirror=InfluxMirror(InfluxV1Writer(influxd, database))
    )
    try:
        batch = Batch(tuple(_readings()), (), ())
        await store.write_batch(batch)
        await store.write_batch(batch)  # a spool replay
    finally:
        await store.close()
    answer = influx_query(influxd, database, 'SELECT count("powerConsumption") FROM "Streetlight"')
    assert answer["results"][0]["series"][0]["values"][0][1] == 2


async def test_unreachable_influxdb_fails_the_batch(database_url: str) -> None:
    store = await open_store_at(
        database_url,
        max_size=1,
        mirror=InfluxMirror(InfluxV1Writer(f"http://127.0.0.1:{free_port()}", "nowhere")),
    )
    try:
        with pytest.raises(StoreUnavailableError, match="InfluxDB unreachable"):
            await store.write_batch(Batch(tuple(_readings()), (), ()))
    finally:
        await store.close()


def test_non_finite_values_are_left_out_of_the_line_protocol() -> None:
    reading = Reading("leon", "urn:a", "T", "x", T0, float("nan"), ValueType.NUMBER, None)
    assert line_protocol([reading]) == ""


V2_URL = os.environ.get("CIUDAD_TEST_INFLUX_V2_URL")


@pytest.mark.skipif(
    V2_URL is None,
    reason="needs InfluxDB >= 1.8 or 2.x (none is packaged here): set CIUDAD_TEST_INFLUX_V2_URL, "
    "CIUDAD_TEST_INFLUX_V2_TOKEN, _ORG and _BUCKET",
)
async def test_v2_writer_against_a_real_influxdb_2(database_url: str) -> None:  # pragma: no cover
    from influxdb_client.client.influxdb_client import InfluxDBClient

    assert V2_URL is not None
    token = os.environ["CIUDAD_TEST_INFLUX_V2_TOKEN"]
    org = os.environ["CIUDAD_TEST_INFLUX_V2_ORG"]
    bucket = os.environ["CIUDAD_TEST_INFLUX_V2_BUCKET"]
    store = await open_store_at(
        database_url, max_size=1, mirror=InfluxMirror(InfluxV2Writer(V2_URL, bucket, org, token))
    )
    try:
        await store.write_batch(Batch(tuple(_readings()), (), ()))
    finally:
        await store.close()
    flux = (
        f'from(bucket: "{bucket}")'
        " |> range(start: 2026-11-20T00:00:00Z, stop: 2026-11-21T00:00:00Z)"
        ' |> filter(fn: (r) => r._measurement == "Streetlight" and r._field == "powerConsumption")'
    )
    with InfluxDBClient(url=V2_URL, token=token, org=org) as client:  # type: ignore[no-untyped-call]
        tables = client.query_api().query(flux)
    values = sorted(record.get_value() for table in tables for record in table.records)
    assert values == [1e-05, 35.25]
