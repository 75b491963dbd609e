"""Devices publishing to a NATS cluster's MQTT listeners, and counting what was stored.

A device (``FailoverPublisher``) publishes QoS 1 to one node; when that node dies it
connects to the next node and publishes again everything the dead one had not
acknowledged, as a device with several broker addresses does.  Counting is done in
PostgreSQL (``ciudad_observations``), never from gateway logs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import nats
import nats.js.errors
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import Backoff, Gateway, MeasurePipeline, NatsOptions, NatsSource
from capture import encode_measures, format_time, measure_topic
from knowledge import PostgresStore
from support.nats import NatsCluster
from support.net import free_port

APIKEY = "leon-sensors"  # the simulated fleet's apikey (`ciudad provisioning`)
SENSORS = ("noise-001", "noise-002", "noise-003", "noise-004", "noise-005")
Message = tuple[str, bytes]


def readings(count: int, offset: int = 0, apikey: str = APIKEY) -> list[Message]:
    """One LAeq reading per message, a distinct time for each, spread over five sensors."""
    start = datetime.now(UTC).timestamp() - 3600
    out = []
    for n in range(offset, offset + count):
        sensor = SENSORS[n % len(SENSORS)]
        body = {"t": format_time(start + n * 0.01), "laeq": 40.0 + n % 50}
        out.append((measure_topic(apikey, sensor), encode_measures(body)))
    return out


class FailoverPublisher:
    """QoS 1 over MQTT 3.1.1 to one node; on losing it, the next node gets the rest and
    everything not yet acknowledged again (at least once: the store makes it once)."""

    def __init__(self, ports: list[int], first: int) -> None:
        self.ports = ports
        self.node = first
        self.acknowledged = 0
        self.failovers = 0
        self.client = self._connect()

    def _connect(self) -> mqtt.Client:
        deadline = time.monotonic() + 60
        while True:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=f"dev-{uuid.uuid4().hex[:8]}",
                protocol=mqtt.MQTTv311,
            )
            client.max_inflight_messages_set(200)
            try:
                client.connect("127.0.0.1", self.ports[self.node], keepalive=10)
            except OSError:
                assert time.monotonic() < deadline, "no NATS node accepted the device"
                self.node = (self.node + 1) % len(self.ports)
                time.sleep(0.1)
                continue
            client.loop_start()
            return client

    def publish(self, messages: list[Message], chunk: int = 50, pause_s: float = 0.0) -> None:
        """Publishes in chunks, each acknowledged before the next (or sent again)."""
        for start in range(0, len(messages), chunk):
            pending = messages[start : start + chunk]
            while pending:
                infos = [self.client.publish(t, p, qos=1) for t, p in pending]
                deadline = time.monotonic() + 5.0
                acked = [_acked(info, deadline) for info in infos]
                self.acknowledged += sum(acked)
                pending = [m for m, ok in zip(pending, acked, strict=True) if not ok]
                if pending:
                    self._fail_over()
            if pause_s:
                time.sleep(pause_s)

    def _fail_over(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        self.failovers += 1
        self.node = (self.node + 1) % len(self.ports)
        self.client = self._connect()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _acked(info: mqtt.MQTTMessageInfo, deadline: float) -> bool:
    try:
        info.wait_for_publish(max(0.01, deadline - time.monotonic()))
        return info.is_published()
    except (RuntimeError, ValueError):  # not queued: the client had lost its connection
        return False


def stored(dsn: str) -> tuple[int, int]:
    """(readings stored, distinct (entity, time) pairs) of the test sensors."""
    with psycopg.connect(dsn) as conn:
        try:
            row = conn.execute(
                "SELECT count(*), count(DISTINCT (entity_id, observed_at)) "
                "FROM ciudad_observations WHERE tenant = 'leon' AND attr = 'LAeq'"
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0, 0
    assert row is not None
    return int(row[0]), int(row[1])


def until_stored(dsn: str, count: int, timeout_s: float = 90.0) -> tuple[int, int]:
    deadline = time.monotonic() + timeout_s
    while (found := stored(dsn))[0] < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def gateway_env(dsn: str, cluster: NatsCluster, tmp_path: Path, name: str) -> dict[str, str]:
    """The environment of one `ciudad gateway` worker reading the cluster's NATS input."""
    provisioning = tmp_path / "provisioning.json"
    env = dict(
        os.environ,
        CIUDAD_DATABASE_URL=dsn,
        CIUDAD_GATEWAY_INPUT="nats",
        CIUDAD_NATS_URLS=",".join(cluster.nats_urls),
        CIUDAD_NATS_ACK_WAIT_S="10",
        CIUDAD_MQTT_PORT=str(cluster.mqtt_ports[0]),
        CIUDAD_MQTT_V311="true",
        CIUDAD_GATEWAY_CLIENT_ID=name,
        CIUDAD_GATEWAY_OPS_PORT=str(free_port()),
        CIUDAD_SPOOL_DIR=str(tmp_path / f"spool-{name}"),
        CIUDAD_PROVISIONING_FILE=str(provisioning),
        CIUDAD_BATCH_MAX_WAIT_MS="50",
        CIUDAD_DEVICE_MAX_MSGS_PER_S="0",
        CIUDAD_RETENTION_INTERVAL_S="0",
        CIUDAD_LOG_FORMAT="text",
    )
    if not provisioning.exists():
        subprocess.run(
            [sys.executable, "-m", "ciudad", "provisioning", "--output", str(provisioning)],
            env=env,
            check=True,
            capture_output=True,
        )
    return env


def gateway_process(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ciudad", "gateway"], env=env, stdout=out, stderr=out
        )


def chunks(messages: list[Message], parts: int) -> Iterator[list[Message]]:
    for index in range(parts):
        yield messages[index::parts]


async def stream_leader(cluster: NatsCluster, stream: str) -> int:
    """Index of the node leading ``stream`` (killing it forces an election)."""
    client = await nats.connect(cluster.nats_urls)
    try:
        info = await client.jetstream().stream_info(stream)
    finally:
        await client.close()
    assert info.cluster is not None
    assert info.cluster.leader is not None
    return [node.name for node in cluster.nodes].index(info.cluster.leader)


async def consumer_exists(cluster: NatsCluster, stream: str, consumer: str) -> bool:
    client = await nats.connect(cluster.nats_urls)
    try:
        await client.jetstream().consumer_info(stream, consumer)
    except nats.js.errors.NotFoundError:
        return False
    finally:
        await client.close()
    return True


@asynccontextmanager
async def nats_gateway(
    cluster: NatsCluster,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    stream: str = "$MQTT_msgs",
) -> AsyncIterator[Gateway]:
    """An in-process gateway on the NATS input (its own durable consumer)."""
    source = NatsSource(
        NatsOptions(
            tuple(cluster.nats_urls),
            stream=stream,
            consumer=f"gw-{uuid.uuid4().hex[:6]}",
            max_ack_pending=300,
            ack_wait_s=10.0,  # an ack lost with a dead node comes back soon
        )
    )
    await source.start()
    gateway = Gateway(
        source, pipeline, store, max_messages=200, max_wait_s=0.05, backoff=Backoff(0.01, 0.05)
    )
    task = asyncio.create_task(gateway.run(), name="nats-gateway")
    try:
        yield gateway
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await source.close()


def messages_received(env: dict[str, str]) -> float:
    """The worker's own count of device messages it took (its /metrics), 0 while it starts."""
    url = f"http://127.0.0.1:{env['CIUDAD_GATEWAY_OPS_PORT']}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            text = answer.read().decode()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("ciudad_gateway_messages_total "):
            return float(line.split()[1])
    return 0.0
