"""The primary dies under load: Patroni promotes the sync standby, the gateway spools
through the gap and drains after, and every reading is stored exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import psycopg
import pytest

from ciudad.cli import main
from ciudad.database import open_store_at, platform_database, platform_read_database
from interoperability import create_app
from support import Settings
from support.mosquitto import MosquittoBroker
from support.store.patroni import PatroniCluster
from tests.helpers.api_client import TEST_API_SETTINGS
from tests.helpers.batches import _noise_batch
from tests.helpers.failover import FailoverRun, run_failover

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ENTITIES = "/ngsi-ld/v1/entities"


def test_primary_killed_under_load_loses_and_doubles_nothing(
    patroni_cluster: PatroniCluster, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    run = FailoverRun(rate=200.0, seconds=25.0, kill_after_s=5.0)
    figures = run_failover(patroni_cluster, mosquitto.port, tmp_path, run)
    print(f"failover figures: {figures.as_json()}")  # what docs/scaling.md reports

    assert figures.published == int(run.rate * run.seconds)  # the broker took them all
    assert figures.stored_distinct == figures.published  # nothing lost
    assert figures.stored == figures.published  # nothing twice (one attribute each)
    assert figures.new_primary not in ("", figures.old_primary)  # the standby took over
    assert figures.spool_peak_batches > 0  # the gateway spooled while there was no primary
    assert 0 < figures.failover_s < 30


def _observations(conn: psycopg.Connection[tuple[int]]) -> int:
    row = conn.execute("SELECT count(*) FROM ciudad_observations").fetchone()
    return row[0] if row else -1


async def test_platform_runs_on_the_multi_host_url_and_the_standby_reads_its_writes(
    patroni_cluster: PatroniCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn = patroni_cluster.dsn()
    store = await open_store_at(dsn, max_size=2)  # the schema, created through the URL
    try:
        with (
            psycopg.connect(dsn, autocommit=True) as primary,
            psycopg.connect(patroni_cluster.dsn("prefer-standby"), autocommit=True) as standby,
        ):
            assert standby.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            assert primary.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
            for n in range(20):
                await store.write_batch(_noise_batch("leon", f"s{n}", [50.0, 60.0, 70.0]))
                # remote_apply: what a write acknowledged is on the standby already
                assert _observations(standby) == _observations(primary) > 0
    finally:
        await store.close()
    monkeypatch.setenv("CIUDAD_DATABASE_URL", dsn)
    assert await asyncio.to_thread(main, ["db", "status"]) == 0
    assert "schema: current" in capsys.readouterr().out
    dump = tmp_path / "ciudad.dump"
    assert await asyncio.to_thread(main, ["backup", "--output", str(dump)]) == 0
    assert dump.stat().st_size > 0


async def test_api_queries_read_on_the_standby_and_see_each_acknowledged_write(
    patroni_cluster: PatroniCluster,
) -> None:
    settings = Settings(
        database_url=patroni_cluster.dsn(),
        database_read_url=patroni_cluster.dsn("prefer-standby"),
        default_tenant="leon",
        api_auth="off",
        **TEST_API_SETTINGS,
    )
    app = create_app(settings, platform_database, read_database=platform_read_database)
    entity = "urn:ngsi-ld:Building:standby"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as api:
            created = await api.post(ENTITIES, json={"id": entity, "type": "Building"})
            assert created.status_code == 201, created.text
            for n in range(10):
                level = {
                    "type": "Property",
                    "value": float(n),
                    "observedAt": f"2026-12-01T10:0{n}:00Z",
                }
                written = await api.patch(f"{ENTITIES}/{entity}/attrs", json={"noise": level})
                assert written.status_code in (201, 204), written.text
                # remote_apply: the standby shows a write as soon as it is acknowledged
                read = (await api.get(f"{ENTITIES}/{entity}")).json()
                assert read["noise"]["value"] == float(n)
                history = (await api.get(f"/ngsi-ld/v1/temporal/entities/{entity}")).json()
                assert len(history["noise"]) == n + 1
            readers = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
            with (
                psycopg.connect(patroni_cluster.dsn(), autocommit=True) as primary,
                psycopg.connect(patroni_cluster.dsn("prefer-standby"), autocommit=True) as standby,
            ):
                assert standby.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
                assert _count(standby, readers, "ciudad-api-read") > 0  # queries ran there
                assert _count(primary, readers, "ciudad-api-read") == 0


def _count(conn: psycopg.Connection[tuple[int]], query: str, name: str) -> int:
    row = conn.execute(query, (name,)).fetchone()
    return row[0] if row else -1
