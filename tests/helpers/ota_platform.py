"""The real platform for end-to-end OTA tests: ``ciudad gateway`` as a process (its OTA
service inside), the device in the registry, bundles built as ``ciudad firmware build``
builds them, and a listener on the nodes' ota topics."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import DeviceEntry, DeviceRegistry, ServiceGroupEntry
from support.net import LOOPBACK, free_port
from support.store import Database
from tests.helpers.firmware import FIRMWARE
from tests.helpers.waiting import CEILING_S, eventually


async def register(db: Database, tenant: str, apikey: str, devices: dict[str, str]) -> None:
    """The group and its devices (device id -> entity type) in the registry."""
    registry = DeviceRegistry(db)
    await registry.put_group(ServiceGroupEntry(apikey=apikey, tenant=tenant))
    await registry.put_devices(
        [
            DeviceEntry(device_id=d, apikey=apikey, entity_type=t, static_attributes=_static(t))
            for d, t in devices.items()
        ]
    )


def _static(entity_type: str) -> dict[str, Any]:
    """What the entity type's schema requires beyond the measures."""
    point = {"type": "Point", "coordinates": [-5.57, 42.6]}
    static: dict[str, Any] = {"location": {"type": "GeoProperty", "value": point}}
    if entity_type == "ParkingSpot":
        static["category"] = {"type": "Property", "value": ["onStreet"]}
        static["refParkingSite"] = {
            "type": "Relationship",
            "object": "urn:ngsi-ld:OnStreetParking:leon:zone-01",
        }
    return static


@contextmanager
def gateway_process(database_url: str, broker_port: int, log: Path) -> Iterator[dict[str, str]]:
    """``ciudad gateway`` until the block ends; yields its environment (for ``ciudad`` CLI
    commands against the same database)."""
    ops = free_port()
    env = dict(
        os.environ,
        CIUDAD_DATABASE_URL=database_url,
        CIUDAD_MQTT_PORT=str(broker_port),
        CIUDAD_GATEWAY_CLIENT_ID=f"gw-{uuid.uuid4().hex[:6]}",
        CIUDAD_GATEWAY_OPS_PORT=str(ops),
        CIUDAD_SPOOL_DIR=str(log.parent / "spool"),
        CIUDAD_BATCH_MAX_WAIT_MS="50",
        CIUDAD_OTA_START_RESEND_S="3",
        CIUDAD_LOG_FORMAT="text",
    )
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ciudad", "gateway"], env=env, stdout=out, stderr=out
        )
    try:

        def ready() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                return httpx.get(f"http://{LOOPBACK}:{ops}/health/ready", timeout=2).is_success
            except httpx.HTTPError:
                return False

        eventually(ready, what="the gateway's /health/ready")
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ciudad(env: dict[str, str], *argv: str) -> str:
    """A ``ciudad`` command as an operator runs it; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "ciudad", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def crashing_firmware(workdir: Path) -> Path:
    """A copy of the firmware tree whose parking app raises as it starts."""
    tree = workdir / "firmware-crash"
    shutil.copytree(FIRMWARE, tree, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    app = tree / "app_parking.py"
    text = app.read_text()
    marker = "    def __init__(self, hal, cfg):\n"
    assert marker in text
    app.write_text(text.replace(marker, marker + '        raise RuntimeError("bad build")\n', 1))
    return tree


class OtaListener:
    """Every report the nodes send on ``/json/<apikey>/+/ota``, in order."""

    def __init__(self, port: int, apikey: str) -> None:
        self.reports: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        ready = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"listen-{uuid.uuid4().hex[:8]}"
        )
        self._client.on_connect = lambda c, *_: c.subscribe(f"/json/{apikey}/+/ota", 1)
        self._client.on_subscribe = lambda *_: ready.set()
        self._client.on_message = self._on_message
        self._client.connect(LOOPBACK, port)
        self._client.loop_start()
        if not ready.wait(CEILING_S):
            raise AssertionError("no SUBACK for the ota topics")

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        self.seen.append(body)
        self.reports.put(body)

    def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1).wait_for_publish(CEILING_S)

    def wait_for(
        self, state: str, update_id: str | None = None, timeout_s: float = CEILING_S
    ) -> dict[str, Any]:
        """The next report in ``state`` (of ``update_id`` if given; others are skipped)."""
        while True:
            try:
                body = self.reports.get(timeout=timeout_s)
            except queue.Empty:
                states = [b.get("state") for b in self.seen[-8:]]
                raise AssertionError(f"no {state!r} report; last {states}") from None
            if body.get("state") == state and update_id in (None, body.get("id")):
                return body

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
