"""The database failover scenario, shared by its test and its bench.

A real ``ciudad gateway`` writes to a Patroni cluster through the multi-host
read-write URL while a publisher sends QoS 1 readings at a steady rate, each with
an observation time of its own; the primary is killed (SIGKILL, as a machine
dying) part way through. Measured: the failover time (kill until the read-write
URL commits again), the gateway's spool peak (its ops endpoint, sampled), and
what the new primary holds once everything has drained.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import provisioning_document
from capture import NodeKind, build_fleet, encode_measures, format_time, measure_topic
from support.net import free_port, wait_for_port
from support.store.patroni import PatroniCluster
from tests.helpers.waiting import eventually

APIKEY = "failover"
TENANT = "failover"
SENSORS = 20
_GAUGE = re.compile(rb"^(ciudad_spool_batches|ciudad_spool_bytes) ([0-9.e+]+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class FailoverRun:
    """What to do: ``rate`` readings a second for ``seconds``, the kill after ``kill_after_s``."""

    rate: float = 200.0
    seconds: float = 25.0
    kill_after_s: float = 5.0


@dataclass(frozen=True, slots=True)
class FailoverFigures:
    published: int  # readings the broker acknowledged (PUBACK)
    stored: int  # rows in ciudad_observations for the run's tenant
    stored_distinct: int  # distinct (entity, observation time)
    failover_s: float  # kill until the read-write URL commits on the new primary
    spool_peak_batches: int
    spool_peak_bytes: int
    spool_emptied_s: float  # kill until the spool was drained into the new primary
    old_primary: str
    new_primary: str

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _provisioning(work: Path) -> Path:
    fleet = build_fleet(42.6, -5.57, APIKEY, {NodeKind.NOISE: SENSORS})
    path = work / "provisioning.json"
    path.write_text(json.dumps(provisioning_document(fleet, TENANT, 60)))
    return path


@contextmanager
def gateway_process(dsn: str, broker_port: int, work: Path) -> Iterator[int]:
    """A ``ciudad gateway`` on ``dsn`` (its own client id, spool and ops port); yields
    the ops port once it is ready; terminated on exit."""
    ops = free_port()
    env = dict(
        os.environ,
        CIUDAD_DATABASE_URL=dsn,
        CIUDAD_DATA_DIR=str(work / "data"),
        CIUDAD_SPOOL_DIR=str(work / "spool"),
        CIUDAD_MQTT_HOST="127.0.0.1",
        CIUDAD_MQTT_PORT=str(broker_port),
        CIUDAD_MQTT_USERNAME="",
        CIUDAD_MQTT_PASSWORD="",
        CIUDAD_GATEWAY_CLIENT_ID=f"failover-{uuid.uuid4().hex[:8]}",
        CIUDAD_GATEWAY_OPS_PORT=str(ops),
        CIUDAD_PROVISIONING_FILE=str(_provisioning(work)),
        CIUDAD_DEVICE_MAX_MSGS_PER_S="0",  # the load, not the limiter, is under test
        # A short wait for a connection: with no primary, spool within 2 s.
        CIUDAD_DB_TIMEOUT_S="2",
    )
    log = work / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ciudad", "gateway"], env=env, stdout=out, stderr=out
        )
    try:
        if not wait_for_port(ops, timeout_s=60) or not _ready(ops, process):
            raise AssertionError(f"gateway not ready: {log.read_text()[-3000:]}")
        yield ops
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(ops: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ops}/health/ready", timeout=2):
                return True
        except OSError:
            time.sleep(0.2)
    return False


class SpoolSampler:
    """Reads the gateway's spool gauges every 0.1 s and keeps their peaks."""

    def __init__(self, ops_port: int) -> None:
        self._url = f"http://127.0.0.1:{ops_port}/metrics"
        self.peak = {b"ciudad_spool_batches": 0.0, b"ciudad_spool_bytes": 0.0}
        self.last = dict(self.peak)
        self.last_spooled_at = 0.0  # monotonic: when the spool was last seen not empty
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spool-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                with urllib.request.urlopen(self._url, timeout=2) as response:
                    text = response.read()
            except OSError:
                continue
            for name, value in _GAUGE.findall(text):
                self.last[name] = float(value)
                self.peak[name] = max(self.peak[name], float(value))
            if self.last[b"ciudad_spool_batches"] > 0:
                self.last_spooled_at = time.monotonic()

    def __enter__(self) -> SpoolSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def empty(self) -> bool:
        return self.last[b"ciudad_spool_batches"] == 0


class Publisher:
    """QoS 1 noise readings at a steady rate in a thread; each reading has its own time."""

    def __init__(self, broker_port: int, run: FailoverRun) -> None:
        self._port = broker_port
        self._run = run
        self.acked = 0
        self._thread = threading.Thread(target=self._publish, name="publisher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> int:
        self._thread.join(self._run.seconds + 60)
        return self.acked

    def _publish(self) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
        client.max_inflight_messages_set(1000)
        client.connect("127.0.0.1", self._port)
        client.loop_start()
        total = int(self._run.rate * self._run.seconds)
        first = datetime.now(UTC).timestamp() - total - 60  # one second apart, all past
        started, sent = time.monotonic(), []
        try:
            for n in range(total):
                lag = started + n / self._run.rate - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
                body = encode_measures({"t": format_time(first + n), "laeq": 40.0 + n % 40})
                topic = measure_topic(APIKEY, f"noise-{n % SENSORS + 1:03d}")
                sent.append(client.publish(topic, body, qos=1))
            for info in sent:
                info.wait_for_publish(30)
            self.acked = sum(1 for info in sent if info.is_published())
        finally:
            client.disconnect()
            client.loop_stop()


def stored(dsn: str) -> tuple[int, int]:
    """(rows, distinct (entity, observation time)) of the run's tenant."""
    with psycopg.connect(dsn, connect_timeout=2) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (entity_id, observed_at)) "
            "FROM ciudad_observations WHERE tenant = %s",
            (TENANT,),
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _stored_or_none(dsn: str) -> tuple[int, int] | None:
    try:
        return stored(dsn)
    except psycopg.Error:
        return None


def run_failover(
    cluster: PatroniCluster, broker_port: int, work: Path, run: FailoverRun = FailoverRun()
) -> FailoverFigures:
    """The scenario end to end; the figures once everything published is stored (or
    AssertionError after a generous wait)."""
    dsn = cluster.dsn()
    with gateway_process(dsn, broker_port, work) as ops, SpoolSampler(ops) as spool:
        publisher = Publisher(broker_port, run)
        publisher.start()
        before = int(run.rate * run.kill_after_s)  # the gateway at work on the first primary

        eventually(lambda: (_stored_or_none(dsn) or (0, 0))[1] >= before, what="load")
        old = cluster.kill_primary()
        failover_s = cluster.wait_for_new_primary()
        published = publisher.join()

        def drained() -> tuple[int, int] | None:
            counts = _stored_or_none(dsn)
            return counts if counts and counts[1] >= published and spool.empty() else None

        counts = eventually(drained, 90, "every reading stored, spool empty")
        assert counts is not None
        rows, distinct = counts
        assert cluster.killed_at is not None
        emptied_s = max(spool.last_spooled_at - cluster.killed_at, 0.0)
        new = cluster.primary()
    return FailoverFigures(
        published=published,
        stored=rows,
        stored_distinct=distinct,
        failover_s=round(failover_s, 2),
        spool_peak_batches=int(spool.peak[b"ciudad_spool_batches"]),
        spool_peak_bytes=int(spool.peak[b"ciudad_spool_bytes"]),
        spool_emptied_s=round(emptied_s, 2),
        old_primary=old.name,
        new_primary=new.name if new else "",
    )
