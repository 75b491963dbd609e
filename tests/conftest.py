"""Shared fixtures: real services (mosquitto, PostgreSQL) isolated per test run.

Unit tests use none of these and open no sockets.  Integration tests get a
mosquitto on a free loopback port (one per session) and a fresh PostgreSQL
database per test on a private pgserver instance (one per session).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from acquisition import (
    ENTITY_TYPES,
    EntityValidator,
    MeasurePipeline,
    Provisioning,
    TimePolicy,
    parse_provisioning,
    provisioning_document,
)
from capture import DeviceSpec, build_fleet
from ciudad.database import open_store_at
from knowledge import PostgresStore, start_embedded_postgres
from knowledge.influx import InfluxMirror, InfluxV1Writer
from support import LEON_LATITUDE, LEON_LONGITUDE
from support.mosquitto import MosquittoBroker
from support.nats import NatsCluster
from support.net import free_port
from support.store.patroni import PatroniCluster
from tests.helpers.databases import fresh_database
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.influx import influx_query
from tests.helpers.postgres import PrivatePostgres

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def fleet() -> tuple[DeviceSpec, ...]:
    return build_fleet(LEON_LATITUDE, LEON_LONGITUDE, APIKEY)


@pytest.fixture(scope="session")
def provisioning(fleet: tuple[DeviceSpec, ...]) -> Provisioning:
    return parse_provisioning(provisioning_document(fleet, TENANT, period_s=60))


@pytest.fixture(scope="session")
def validator() -> EntityValidator:
    return EntityValidator({name: t.schema_file for name, t in ENTITY_TYPES.items()})


@pytest.fixture(scope="session")
def pipeline(provisioning: Provisioning, validator: EntityValidator) -> MeasurePipeline:
    policy = TimePolicy(max_future=timedelta(minutes=5), max_past=timedelta(days=30))
    return MeasurePipeline(provisioning, validator, policy)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    broker = MosquittoBroker(free_port(), tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def private_mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """A broker of the test's own, for tests whose nodes leave retained status messages
    behind: on the session broker every later test's gateway would be handed them."""
    broker = MosquittoBroker(free_port(), tmp_path_factory.mktemp("private-mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """Three JetStream nodes with MQTT listeners, the test's own (fault tests kill nodes)."""
    cluster = NatsCluster(tmp_path_factory.mktemp("nats"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URI of a private PostgreSQL (pgserver, unix socket in a temp dir) for this session."""
    return start_embedded_postgres(Path(tmp_path_factory.mktemp("pg")))


@pytest.fixture
def database_url(postgres_uri: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    with fresh_database(postgres_uri) as database_url:
        yield database_url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresStore]:
    opened = await open_store_at(database_url, max_size=2)
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
def timescale_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """TimescaleDB in PGlite (node, scripts/pglite) on a free loopback port, for this session."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("pglite") / "server.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            ["node", str(REPO / "scripts" / "pglite" / "server.mjs"), str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while "READY" not in log_path.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"TimescaleDB (PGlite) did not start: {log_path.read_text()}")
            time.sleep(0.2)
        yield f"postgresql://postgres:ciudad@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        server.terminate()
        server.wait(timeout=30)


INFLUXD_CONFIG = """
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[ifql]
  enabled = false
[monitor]
  store-enabled = false
"""


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's InfluxDB 1.6.7 on free loopback ports (RPC included); yields its base URL."""
    root = tmp_path_factory.mktemp("influxd")
    http_port = free_port()
    config = root / "influxdb.conf"
    config.write_text(INFLUXD_CONFIG.format(root=root, rpc_port=free_port(), http_port=http_port))
    url = f"http://127.0.0.1:{http_port}"
    with (root / "influxd.log").open("w") as log_file:
        server = subprocess.Popen(
            ["influxd", "-config", str(config)], stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"{url}/ping"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"influxd did not start: {(root / 'influxd.log').read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 204)
    except OSError:
        return False


def _empty_timescale(uri: str) -> None:
    """PGlite has one database and one backend (the extension can't be reloaded in it):
    each test starts by dropping the platform's tables instead."""
    with psycopg.connect(uri, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename LIKE 'ciudad%'"
        ).fetchall()
        for (table,) in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))
        conn.execute("DROP TABLE IF EXISTS alembic_version")  # an empty database again


@pytest.fixture(params=["postgres", "timescaledb", "influxdb-mirror"])
async def backend_store(
    request: pytest.FixtureRequest, postgres_uri: str
) -> AsyncIterator[PostgresStore]:
    """The store on each backend: PostgreSQL with native partitions, TimescaleDB (PGlite),
    and PostgreSQL mirrored to InfluxDB 1.6.7 (a database of the test's own)."""
    opened: PostgresStore
    if request.param == "timescaledb":
        uri = request.getfixturevalue("timescale_uri")
        _empty_timescale(uri)
        opened = await open_store_at(uri, max_size=2)
    elif request.param == "influxdb-mirror":
        url = request.getfixturevalue("influxd")
        database = f"t_{uuid.uuid4().hex[:12]}"
        influx_query(url, database, f'CREATE DATABASE "{database}"')
        writer = InfluxV1Writer(url, database)
        opened = await open_store_at(
            request.getfixturevalue("database_url"), max_size=2, mirror=InfluxMirror(writer)
        )
    else:
        opened = await open_store_at(request.getfixturevalue("database_url"), max_size=2)
    yield opened
    await opened.close()


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(tmp_path / "pg")
    yield server
    with contextlib.suppress(Exception):  # already stopped by the test
        server.stop()


@pytest.fixture
def patroni_cluster(tmp_path: Path) -> Iterator[PatroniCluster]:
    """Two PostgreSQL 15 nodes under Patroni (synchronous replication) over three etcd
    members, on free loopback ports: a cluster of the test's own, always stopped."""
    cluster = PatroniCluster(tmp_path / "patroni")
    cluster.start()
    yield cluster
    cluster.stop()
