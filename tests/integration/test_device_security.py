"""Per-device credentials, ACLs generated from the registry, revocation and TLS, on mosquitto."""

from __future__ import annotations

import asyncio
import os
import pwd
import ssl
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import (
    OTA_FILTERS,
    Backoff,
    BrokerLayout,
    DeviceRegistry,
    Gateway,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
    ProvisioningFile,
    generate_password,
    mosquitto_password_hash,
    provisioning_document,
)
from capture import DeviceSpec
from ciudad.broker_files import write_broker_files
from knowledge import PostgresStore, TimeRange
from support import NotFoundError
from support.mosquitto import MosquittoBroker
from support.net import free_port
from support.tls import make_dev_ca
from tests.helpers.databases import registry_at
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.gateway import noise_message
from tests.helpers.waiting import CEILING_S, wait_until

pytestmark = pytest.mark.integration
GATEWAY_USER = "ciudad-gateway"


@dataclass
class DeviceClient:
    """A device's MQTT 5 connection that records CONNACK and PUBACK reason codes."""

    client: mqtt.Client
    connack: list[Any] = field(default_factory=list)
    pubacks: dict[int, Any] = field(default_factory=dict)
    connected: threading.Event = field(default_factory=threading.Event)


def connect_device(port: int, user: str, password: str, ca: Path | None = None) -> DeviceClient:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    device = DeviceClient(client)
    client.username_pw_set(user, password)
    if ca is not None:
        client.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)

    def on_connect(c: mqtt.Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
        device.connack.append(reason)
        device.connected.set()

    def on_publish(c: mqtt.Client, u: Any, mid: int, reason: Any, props: Any) -> None:
        device.pubacks[mid] = reason

    client.on_connect = on_connect
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    device.connected.wait(5)
    return device


def send(device: DeviceClient, topic: str, payload: bytes) -> Any:
    info = device.client.publish(topic, payload, qos=1)
    info.wait_for_publish(5)
    return device.pubacks.get(info.mid)


def close(device: DeviceClient) -> None:
    device.client.disconnect()
    device.client.loop_stop()


@dataclass
class SecureSetup:
    broker: MosquittoBroker
    registry: DeviceRegistry
    passwords: dict[str, str]
    gateway_password: str
    ca: Path
    layout: BrokerLayout

    async def regenerate(self) -> None:
        gateway_hash = mosquitto_password_hash(self.gateway_password)
        creds = await self.registry.credentials()
        await asyncio.to_thread(write_broker_files, self.layout, creds, GATEWAY_USER, gateway_hash)
        self.broker.reload()
        await asyncio.sleep(0.3)


@pytest.fixture
async def secure(
    database_url: str, fleet: tuple[DeviceSpec, ...], tmp_path: Path
) -> AsyncIterator[SecureSetup]:
    async with registry_at(database_url) as registry:
        await registry.import_document(
            ProvisioningFile.model_validate(provisioning_document(fleet, TENANT, 60))
        )
        passwords = {}
        for device_id in ("noise-001", "noise-002"):
            passwords[device_id] = generate_password()
            await registry.set_password_hash(
                APIKEY, device_id, mosquitto_password_hash(passwords[device_id])
            )
        output = tmp_path / "auth"
        tls = await asyncio.to_thread(make_dev_ca, output / "tls")
        # What `ciudad broker-config` writes: the gateway on its own loopback listener,
        # devices on a plain and a TLS one (loopback and free ports here).
        layout = BrokerLayout(
            output,
            gateway_port=free_port(),
            tls=tls,
            tls_port=free_port(),
            plain_port=free_port(),
            device_host="127.0.0.1",
            persistence_dir=output,
            log_file=output / "mosquitto.log",
            user=pwd.getpwuid(os.geteuid()).pw_name,
        )
        setup = SecureSetup(
            MosquittoBroker(
                layout.gateway_port, tmp_path / "broker", config_file=output / "mosquitto.conf"
            ),
            registry,
            passwords,
            generate_password(),
            tls.ca_cert,
            layout,
        )
        await setup.regenerate()
        setup.broker.start()
        try:
            yield setup
        finally:
            setup.broker.stop()


async def _levels(store: PostgresStore, device_id: str) -> list[float]:
    try:
        history = await store.history(
            TENANT, f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:{device_id}", ["LAeq"], TimeRange()
        )
    except NotFoundError:
        return []
    return [float(v) for h in history for v in h.values]


async def test_devices_publish_only_as_themselves_and_revocation_locks_them_out(
    secure: SecureSetup, pipeline: MeasurePipeline, store: PostgresStore
) -> None:
    broker = secure.broker
    devices_port = secure.layout.plain_port
    assert devices_port is not None
    source = MqttSource(
        MqttOptions(
            "127.0.0.1",
            broker.port,
            f"gw-{uuid.uuid4().hex[:6]}",
            username=GATEWAY_USER,
            password=secure.gateway_password,
        )
    )
    await source.start()
    gateway = Gateway(source, pipeline, store, max_wait_s=0.05, backoff=Backoff(0.01, 0.05))
    task = asyncio.create_task(gateway.run())
    try:
        one = await asyncio.to_thread(
            connect_device, devices_port, f"{APIKEY}.noise-001", secure.passwords["noise-001"]
        )
        assert not one.connack[0].is_failure
        own = await asyncio.to_thread(send, one, *noise_message(61.0))
        assert not own.is_failure
        topic, payload = noise_message(99.0)
        spoofed = await asyncio.to_thread(
            send, one, topic.replace("noise-001", "noise-002"), payload
        )
        assert spoofed.value == 0x87  # Not authorized, from the broker's ACL

        async def own_stored() -> bool:
            return await _levels(store, "noise-001") == [61.0]

        await wait_until(own_stored)
        assert await _levels(store, "noise-002") == []
        close(one)

        wrong = await asyncio.to_thread(
            connect_device, devices_port, f"{APIKEY}.noise-002", "not-the-password"
        )
        assert wrong.connack
        assert wrong.connack[0].is_failure
        close(wrong)
        await secure.registry.revoke(APIKEY, "noise-002")
        await secure.regenerate()
        revoked = await asyncio.to_thread(
            connect_device, devices_port, f"{APIKEY}.noise-002", secure.passwords["noise-002"]
        )
        assert revoked.connack
        assert revoked.connack[0].is_failure
        close(revoked)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        source.stop()


async def test_tls_listener_with_the_development_ca(secure: SecureSetup) -> None:
    security = secure.layout
    device = await asyncio.to_thread(
        connect_device,
        security.tls_port,
        f"{APIKEY}.noise-001",
        secure.passwords["noise-001"],
        secure.ca,
    )
    assert device.connack
    assert not device.connack[0].is_failure
    assert not (await asyncio.to_thread(send, device, *noise_message(55.0))).is_failure
    close(device)
    plain = await asyncio.to_thread(
        connect_device, security.tls_port, f"{APIKEY}.noise-001", secure.passwords["noise-001"]
    )
    assert not plain.connack  # a plain-text client never gets a CONNACK from a TLS listener
    close(plain)


async def test_a_device_reports_firmware_updates_only_as_itself_to_the_ota_connection(
    secure: SecureSetup,
) -> None:
    """The ACL of `ciudad broker-config` lets the OTA service subscribe to the ota topics
    and each device write its own (docs/firmware.md, "Updates over the air")."""
    ota = MqttSource(
        MqttOptions(
            "127.0.0.1",
            secure.broker.port,
            f"gw-ota-{uuid.uuid4().hex[:6]}",
            username=GATEWAY_USER,
            password=secure.gateway_password,
            filters=OTA_FILTERS,
        )
    )
    await ota.start()  # refused subscriptions would never make it ready
    try:
        assert secure.layout.plain_port is not None
        one = await asyncio.to_thread(
            connect_device,
            secure.layout.plain_port,
            f"{APIKEY}.noise-001",
            secure.passwords["noise-001"],
        )
        report = b'{"id": "abc123", "state": "downloading", "f": 0, "o": 0}'
        own = await asyncio.to_thread(send, one, f"/json/{APIKEY}/noise-001/ota", report)
        spoofed = await asyncio.to_thread(send, one, f"/json/{APIKEY}/noise-002/ota", report)
        close(one)
        assert not own.is_failure
        assert spoofed.value == 0x87  # Not authorized, from the broker's ACL
        (received,) = await asyncio.wait_for(ota.next_batch(10, 0.5), CEILING_S)
        assert received.topic == f"/json/{APIKEY}/noise-001/ota"
    finally:
        ota.stop()
