"""Faults while data flows: the broker restarted mid-stream, the gateway killed with SIGKILL
mid-batch and restarted. Each test counts readings sent against readings stored: none
lost, none stored twice. (PostgreSQL stopped for 30 s and a full spool are in
test_store_outage.py; nodes offline in tests/firmware/test_nodes.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from capture import encode_measures, format_time, measure_topic
from support.mosquitto import MosquittoBroker
from support.net import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
APIKEY = "leon-sensors"
SENSORS = ("noise-001", "noise-002", "noise-003")


def messages(count: int) -> Iterator[tuple[str, bytes]]:
    """One LAeq reading per message, a distinct time for each, spread over three sensors."""
    start = datetime.now(UTC).timestamp() - 3600
    for n in range(count):
        sensor = SENSORS[n % len(SENSORS)]
        body = {"t": format_time(start + n * 0.01), "laeq": 40.0 + n % 50}
        yield measure_topic(APIKEY, sensor), encode_measures(body)


class Publisher:
    """A device-side client with a persistent session, publishing QoS 1 at a steady pace;
    paho keeps what the broker has not acknowledged and sends it again after a reconnect."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"dev-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.reconnect_delay_set(0.1, 0.5)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, clean_start=False, properties=props)
        self.client.loop_start()
        self.sent = 0
        self.infos: list[mqtt.MQTTMessageInfo] = []

    def publish(self, count: int, per_second: float) -> None:
        for topic, payload in messages(count):
            while not self.client.is_connected():  # a device holds its readings while offline
                time.sleep(0.01)
            self.infos.append(self.client.publish(topic, payload, qos=1))
            self.sent += 1
            time.sleep(1 / per_second)

    def wait_acknowledged(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for info in self.infos:  # in flight at a disconnect: paho sends them again
            while not info.is_published():
                assert time.monotonic() < deadline, "the broker never acknowledged a message"
                time.sleep(0.01)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def streaming(port: int, count: int, per_second: float) -> Iterator[None]:
    """Publishes ``count`` readings in the background while the block injects a fault; on
    leaving, every one has been acknowledged by the broker."""
    publisher = Publisher(port)
    sending = threading.Thread(target=publisher.publish, args=(count, per_second))
    sending.start()
    try:
        yield
    finally:
        sending.join(timeout=60)
        publisher.wait_acknowledged(60)
        publisher.close()


def stored(dsn: str) -> tuple[int, int]:
    """(readings stored, distinct (entity, time) pairs) of the test's sensors."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (entity_id, observed_at)) FROM ciudad_observations "
            "WHERE tenant = 'leon' AND attr = 'LAeq' AND entity_id NOT LIKE '%%noise-006'"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def until_stored(dsn: str, count: int, timeout_s: float) -> tuple[int, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = stored(dsn)
        except psycopg.errors.UndefinedTable:
            found = (0, 0)
        if found[0] >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def gateway_process(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ciudad", "gateway"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def gateway_env(dsn: str, broker_port: int, tmp_path: Path) -> dict[str, str]:
    provisioning = tmp_path / "provisioning.json"
    env = dict(
        os.environ,
        CIUDAD_DATABASE_URL=dsn,
        CIUDAD_MQTT_PORT=str(broker_port),
        CIUDAD_GATEWAY_CLIENT_ID=f"gw-{uuid.uuid4().hex[:6]}",
        CIUDAD_GATEWAY_OPS_PORT=str(free_port()),
        CIUDAD_SPOOL_DIR=str(tmp_path / "spool"),
        CIUDAD_PROVISIONING_FILE=str(provisioning),
        CIUDAD_BATCH_MAX_WAIT_MS="50",
        CIUDAD_MAX_FUTURE_SKEW_S="300",
        CIUDAD_LOG_FORMAT="text",
    )
    subprocess.run(
        [sys.executable, "-m", "ciudad", "provisioning", "--output", str(provisioning)],
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def wait_for_session(dsn: str, broker: MosquittoBroker, env: dict[str, str]) -> None:
    """Until the gateway subscribed (its session then holds messages while it is away)."""
    publisher = Publisher(broker.port)
    try:
        topic, payload = (
            measure_topic(APIKEY, "noise-006"),
            encode_measures({"t": format_time(time.time() - 5), "laeq": 1.0}),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            publisher.client.publish(topic, payload, qos=1).wait_for_publish(5)
            with psycopg.connect(dsn) as conn:
                try:
                    if conn.execute(
                        "SELECT 1 FROM ciudad_observations WHERE entity_id LIKE "
                        "'%noise-006' LIMIT 1"
                    ).fetchone():
                        return
                except psycopg.errors.UndefinedTable:
                    pass
            time.sleep(0.3)
        raise AssertionError("the gateway never stored a probe reading")
    finally:
        publisher.close()


def test_broker_restart_mid_stream_loses_and_duplicates_nothing(
    database_url: str, tmp_path: Path
) -> None:
    broker = MosquittoBroker(free_port(), tmp_path / "broker")
    broker.start()
    env = gateway_env(database_url, broker.port, tmp_path)
    gateway = gateway_process(env, tmp_path / "gateway.log")
    try:
        wait_for_session(database_url, broker, env)
        with streaming(broker.port, 600, 150.0):
            time.sleep(1.5)
            broker.stop()  # mid-stream: the publisher and the gateway both lose the broker
            time.sleep(2.0)
            broker.start()
        count, distinct = until_stored(database_url, 600, 60)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
        broker.stop()
    log = (tmp_path / "gateway.log").read_text()
    assert "MQTT disconnected" in log  # the fault really happened to the gateway
    assert (count, distinct) == (600, 600), log[-3000:]


def test_gateway_killed_mid_batch_and_restarted_loses_and_duplicates_nothing(
    database_url: str, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    env = gateway_env(database_url, mosquitto.port, tmp_path)
    gateway = gateway_process(env, tmp_path / "gateway.log")
    try:
        wait_for_session(database_url, mosquitto, env)
        with streaming(mosquitto.port, 900, 300.0):
            time.sleep(1.0)
            before_kill = stored(database_url)[0]
            gateway.send_signal(signal.SIGKILL)  # no goodbye: batches in flight die with it
            gateway.wait(timeout=10)
            time.sleep(1.0)  # messages keep arriving at the broker for the absent gateway
            gateway = gateway_process(env, tmp_path / "gateway.log")
        count, distinct = until_stored(database_url, 900, 60)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
    assert 0 < before_kill < 900  # killed mid-stream, not before or after it
    assert (count, distinct) == (900, 900), (tmp_path / "gateway.log").read_text()[-3000:]
