"""Issue 16, items 4 and 5, against mosquitto running what `ciudad broker-config` writes.

Each test replays an attack found by the security review: a device taking the
gateway's (or another device's) client id, a burst larger than mosquitto's default
queue of 1000 while the gateway is away, and one device flooding the gateway. The
broker is started from the generated ``mosquitto.conf`` as it is (the command runs as a
child process, as an operator runs it); devices use their own registry credentials.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import ssl
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import (
    RATE_LIMITED,
    Backoff,
    BatchSink,
    Gateway,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
    ProvisioningFile,
    generate_password,
    mosquitto_password_hash,
    provisioning_document,
)
from capture import DeviceSpec, encode_measures, format_time, measure_topic
from ciudad.runners import device_rate_limiter
from knowledge import PostgresStore
from support import Settings
from support.metrics import PlatformMetrics
from support.mosquitto import MosquittoBroker
from support.net import free_port
from tests.helpers.databases import registry_at
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.integration
GATEWAY_USER = "ciudad-gateway"
GATEWAY_ID = "ciudad-gateway"  # CIUDAD_GATEWAY_CLIENT_ID's default: anyone can guess it
DEVICES = ("noise-001", "noise-002", "noise-003")


@dataclass
class HardenedBroker:
    broker: MosquittoBroker
    gateway_port: int
    plain_port: int
    tls_port: int
    ca: Path
    gateway_password: str
    passwords: dict[str, str]


def broker_config(output: Path, env: dict[str, str], ports: dict[str, int]) -> None:
    """Runs `ciudad broker-config` as an operator would (loopback and free ports only)."""
    user = pwd.getpwuid(os.geteuid()).pw_name  # the test's own user: it owns the temp dirs
    command = [sys.executable, "-m", "ciudad", "broker-config", "--output", str(output)]
    command += ["--tls", "--tls-port", str(ports["tls"]), "--plain-port", str(ports["plain"])]
    command += ["--device-host", "127.0.0.1", "--gateway-port", str(ports["gateway"])]
    command += ["--persistence-dir", str(output), "--log-file", str(output / "mosquitto.log")]
    command += ["--user", user]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture
async def hardened(
    database_url: str, fleet: tuple[DeviceSpec, ...], tmp_path: Path
) -> AsyncIterator[HardenedBroker]:
    passwords = {device_id: generate_password() for device_id in DEVICES}
    async with registry_at(database_url) as registry:
        await registry.import_document(
            ProvisioningFile.model_validate(provisioning_document(fleet, TENANT, 60))
        )
        for device_id, password in passwords.items():
            await registry.set_password_hash(APIKEY, device_id, mosquitto_password_hash(password))
    gateway_password = generate_password()
    env = os.environ | {
        "CIUDAD_DATABASE_URL": database_url,
        "CIUDAD_DATA_DIR": str(tmp_path / "data"),
        "CIUDAD_MQTT_USERNAME": GATEWAY_USER,
        "CIUDAD_MQTT_PASSWORD": gateway_password,
    }
    ports = {"gateway": free_port(), "plain": free_port(), "tls": free_port()}
    output = tmp_path / "broker"
    await asyncio.to_thread(broker_config, output, env, ports)
    broker = MosquittoBroker(ports["gateway"], output, config_file=output / "mosquitto.conf")
    await asyncio.to_thread(broker.start)
    try:
        yield HardenedBroker(
            broker,
            ports["gateway"],
            ports["plain"],
            ports["tls"],
            output / "tls" / "ca.crt",
            gateway_password,
            passwords,
        )
    finally:
        broker.stop()


@dataclass
class Device:
    """A device-side MQTT 5 client (paho reconnects it, as firmware does)."""

    client: mqtt.Client
    connacks: list[Any] = field(default_factory=list)
    disconnects: int = 0
    pubacks: dict[int, Any] = field(default_factory=dict)
    answered: threading.Event = field(default_factory=threading.Event)

    def publish_all(self, messages: list[tuple[str, bytes]]) -> int:
        """Publishes QoS 1; returns how many the broker acknowledged as accepted."""
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(60)
        return sum(1 for info in infos if not self.pubacks[info.mid].is_failure)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(port: int, user: str, password: str, client_id: str, ca: Path | None = None) -> Device:
    """Connects and waits for the broker's CONNACK (or the connection's end)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    device = Device(client)
    client.username_pw_set(user, password)
    client.max_inflight_messages_set(100)
    client.reconnect_delay_set(0.1, 0.5)
    if ca is not None:
        client.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)

    def on_connect(c: mqtt.Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
        device.connacks.append(reason)
        device.answered.set()

    def on_disconnect(c: mqtt.Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
        device.disconnects += 1
        device.answered.set()

    def on_publish(c: mqtt.Client, u: Any, mid: int, reason: Any, props: Any) -> None:
        device.pubacks[mid] = reason

    client.on_connect, client.on_disconnect = on_connect, on_disconnect
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert device.answered.wait(10), "the broker never answered the CONNECT"
    return device


def as_device(hb: HardenedBroker, port: int, device_id: str, client_id: str) -> Device:
    ca = hb.ca if port == hb.tls_port else None
    return connect(port, f"{APIKEY}.{device_id}", hb.passwords[device_id], client_id, ca)


def readings(device_id: str, count: int, first: int = 0) -> list[tuple[str, bytes]]:
    """``count`` noise readings, each with its own time (an hour ago onwards)."""
    start = datetime.now(UTC).timestamp() - 3600
    return [
        (
            measure_topic(APIKEY, device_id),
            encode_measures({"t": format_time(start + n * 0.5), "laeq": 40.0 + n % 50}),
        )
        for n in range(first, first + count)
    ]


@asynccontextmanager
async def gateway_on(
    hb: HardenedBroker, pipeline: MeasurePipeline, sink: BatchSink, **options: Any
) -> AsyncIterator[tuple[Gateway, MqttSource]]:
    """The gateway in-process, on its own listener, with the predictable default id."""
    source = MqttSource(
        MqttOptions(
            "127.0.0.1",
            hb.gateway_port,
            GATEWAY_ID,
            username=GATEWAY_USER,
            password=hb.gateway_password,
            receive_maximum=200,
        )
    )
    await source.start()
    gateway = Gateway(
        source, pipeline, sink, max_messages=500, max_wait_s=0.05, backoff=Backoff(0.01, 0.05),
        **options,
    )  # fmt: skip
    task = asyncio.create_task(gateway.run(), name="gateway-under-test")
    try:
        yield gateway, source
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        source.stop()


async def count(dsn: str, query: str, *params: object) -> int:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        row = await (await conn.execute(query, params)).fetchone()
    return int(row[0]) if row else 0


async def stored(dsn: str, device_id: str) -> int:
    entity = f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:{device_id}"
    query = "SELECT count(*) FROM ciudad_observations WHERE entity_id = %s AND attr = 'LAeq'"
    return await count(dsn, query, entity)


async def test_a_device_cannot_take_the_gateways_session_or_another_devices(
    hardened: HardenedBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="acquisition.inputs.mqtt")
    hb = hardened
    async with gateway_on(hb, pipeline, store) as (_, source):
        # The gateway's listener knows no device user at all.
        barred = await asyncio.to_thread(as_device, hb, hb.gateway_port, "noise-002", GATEWAY_ID)
        assert barred.connacks, "no CONNACK from the gateway's listener"
        assert all(r.is_failure for r in barred.connacks), barred.connacks
        barred.close()
        victim_id = f"{APIKEY}.noise-001"  # a device's usual id: its user name
        victim = await asyncio.to_thread(as_device, hb, hb.plain_port, "noise-001", victim_id)
        # Device 2 asks for the gateway's id over TLS, device 3 for device 1's id.
        thief = await asyncio.to_thread(as_device, hb, hb.tls_port, "noise-002", GATEWAY_ID)
        copycat = await asyncio.to_thread(as_device, hb, hb.plain_port, "noise-003", victim_id)
        for device in (victim, thief, copycat):
            assert [r.is_failure for r in device.connacks] == [False]  # in, under its own name
        sent = {
            "noise-001": await asyncio.to_thread(victim.publish_all, readings("noise-001", 150)),
            "noise-002": await asyncio.to_thread(thief.publish_all, readings("noise-002", 30)),
            "noise-003": await asyncio.to_thread(copycat.publish_all, readings("noise-003", 30)),
        }
        assert sent == {"noise-001": 150, "noise-002": 30, "noise-003": 30}

        async def every_acknowledged_reading_stored() -> bool:
            return all([await stored(database_url, d) == n for d, n in sent.items()])

        await wait_until(every_acknowledged_reading_stored)
        assert source.connected
        kicked = [r.getMessage() for r in caplog.records if "disconnected" in r.getMessage()]
        assert kicked == [], "the gateway was disconnected while devices connected"
        assert (victim.disconnects, thief.disconnects, copycat.disconnects) == (0, 0, 0)
        for device in (victim, thief, copycat):
            device.close()


async def test_a_burst_for_an_absent_gateway_is_held_whole(
    hardened: HardenedBroker, pipeline: MeasurePipeline, store: PostgresStore, database_url: str
) -> None:
    async with gateway_on(hardened, pipeline, store):
        pass  # the gateway's persistent session and subscriptions now exist; it goes away
    device = await asyncio.to_thread(as_device, hardened, hardened.plain_port, "noise-001", "n1")
    burst = readings("noise-001", 3000)  # three times mosquitto's default queue
    acknowledged = await asyncio.to_thread(device.publish_all, burst)
    device.close()
    assert acknowledged == len(burst)
    async with gateway_on(hardened, pipeline, store):

        async def all_stored() -> bool:
            return await stored(database_url, "noise-001") == acknowledged

        await wait_until(all_stored)


def flood(hb: HardenedBroker, total: int) -> dict[str, int]:
    """Device 1 floods at full speed while device 2 sends a reading now and then."""
    noisy = as_device(hb, hb.plain_port, "noise-001", "n1")
    calm = as_device(hb, hb.plain_port, "noise-002", "n2")
    accepted = {"noise-001": 0, "noise-002": 0}
    for start in range(0, total, 100):
        accepted["noise-001"] += noisy.publish_all(readings("noise-001", 100, start))
        accepted["noise-002"] += calm.publish_all(readings("noise-002", 2, start))
    noisy.close()
    calm.close()
    return accepted


async def test_a_flooding_device_is_rate_limited_and_the_others_are_not(
    hardened: HardenedBroker, pipeline: MeasurePipeline, store: PostgresStore, database_url: str
) -> None:
    settings = Settings(device_max_msgs_per_s=5, device_burst_msgs=50)
    limiter = device_rate_limiter(settings)
    metrics = PlatformMetrics()
    async with gateway_on(hardened, pipeline, store, rate_limit=limiter, metrics=metrics) as (
        gateway,
        _,
    ):
        started = asyncio.get_running_loop().time()
        sent = await asyncio.to_thread(flood, hardened, 600)
        assert sent == {"noise-001": 600, "noise-002": 12}
        letters = "SELECT count(*) FROM ciudad_dead_letters WHERE reason = %s AND device_id = %s"

        async def every_message_accounted_for_and_counted() -> bool:
            kept = await stored(database_url, "noise-001")
            refused = await count(database_url, letters, RATE_LIMITED, "noise-001")
            exported = metrics.registry.get_sample_value(
                "ciudad_gateway_dead_letters_total", {"reason": RATE_LIMITED}
            )
            return (
                kept + refused == 600
                and await stored(database_url, "noise-002") == 12
                and gateway.stats.dead_letters == {RATE_LIMITED: refused}
                and exported == refused
            )

        await wait_until(every_message_accounted_for_and_counted)
        elapsed = asyncio.get_running_loop().time() - started
    refused = await count(database_url, letters, RATE_LIMITED, "noise-001")
    assert 600 - refused <= 50 + 5 * elapsed + 1  # the burst, then the rate
    tenants = "SELECT count(*) FROM ciudad_dead_letters WHERE tenant = %s"
    assert await count(database_url, tenants, TENANT) == refused  # the tenant sees them
