"""The node's side of the OTA protocol played by small MQTT clients, for tests of the
platform's OTA service with many devices (the MicroPython node plays it for real in the
end-to-end tests), and the platform's pieces an OTA test wires together.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import (
    OTA_FILTERS,
    BatchSink,
    DeviceRegistry,
    InboundMessage,
    MqttOptions,
    MqttSource,
    OtaOptions,
    OtaService,
    OtaStore,
    Provisioning,
)
from support.net import LOOPBACK
from support.store import Database
from support.tasks import stop_tasks
from tests.helpers.waiting import CEILING_S


@dataclass
class FakeOtaNode:
    """One device: accepts a start, pulls every chunk, checks it, and reports like a node.

    ``fail`` answers a start with ``failed`` and that reason (``decide``, called with the
    node when a start arrives, may set it then); ``pace_s`` waits that long before asking
    for the next chunk (a slow link), so a test can act mid-download.
    """

    port: int
    apikey: str
    device_id: str
    fail: str | None = None
    pace_s: float = 0.0
    decide: Callable[[FakeOtaNode], None] | None = None
    starts: list[str] = field(default_factory=list)
    requests: list[tuple[int, int]] = field(default_factory=list)
    bad_chunks: int = 0
    aborts: list[str] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)
    _job: dict[str, Any] | None = None
    _client: mqtt.Client | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> FakeOtaNode:
        ready = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fake-{uuid.uuid4().hex[:8]}")
        client.on_connect = lambda c, *_: c.subscribe(f"/{self.apikey}/{self.device_id}/cmd", 1)
        client.on_subscribe = lambda *_: ready.set()
        client.on_message = self._on_message
        client.connect(LOOPBACK, self.port)
        client.loop_start()
        self._client = client
        if not ready.wait(CEILING_S):
            raise AssertionError("no SUBACK for the command topic")
        return self

    def __exit__(self, *_: object) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

    @property
    def done(self) -> bool:
        return "confirmed" in self.reported

    def report(self, update_id: str, state: str, **extra: Any) -> None:
        assert self._client is not None
        body = {"id": update_id, "state": state, **extra}
        self.reported.append(state)
        topic = f"/json/{self.apikey}/{self.device_id}/ota"
        self._client.publish(topic, json.dumps(body), qos=1)

    def _on_message(self, client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        ((name, value),) = json.loads(msg.payload).items()
        with self._lock:
            if name == "ota":
                self._start(value)
            elif name == "otachunk":
                self._chunk(value)
            elif name == "otaabort":
                self.aborts.append(value["id"])
                if self._job is not None and self._job["id"] == value["id"]:
                    self._job = None
                    self.report(value["id"], "failed", reason="aborted")

    def _start(self, value: dict[str, Any]) -> None:
        self.starts.append(value["id"])
        if self.decide is not None:
            self.decide(self)
        if self.fail is not None:
            self.report(value["id"], "failed", reason=self.fail)
            return
        if self._job is None or self._job["id"] != value["id"]:
            manifest = json.loads(base64.b64decode(value["manifest"]))
            self._job = {"id": value["id"], "m": manifest, "f": 0, "o": 0, "data": [b""]}
        self._ask()

    def ask_again(self) -> None:
        """Repeats the last request, as a node does when no chunk came in ota_retry_s."""
        with self._lock:
            self._ask()

    def _ask(self) -> None:
        job = self._job
        assert job is not None
        self.requests.append((job["f"], job["o"]))
        f, o = job["f"], job["o"]

        def send() -> None:
            self.report(job["id"], "downloading", f=f, o=o)

        if self.pace_s:
            threading.Timer(self.pace_s, send).start()
        else:
            send()

    def _chunk(self, value: dict[str, Any]) -> None:
        job = self._job
        if (
            job is None
            or value["id"] != job["id"]
            or (value["f"], value["o"])
            != (
                job["f"],
                job["o"],
            )
        ):
            return
        data = base64.b64decode(value["d"])
        if hashlib.sha256(data).hexdigest() != value["h"]:
            self.bad_chunks += 1
            self._ask()  # dropped: the same chunk again
            return
        job["data"][-1] += data
        job["o"] += len(data)
        files = job["m"]["files"]
        if job["o"] >= files[job["f"]][1]:
            job["f"], job["o"] = job["f"] + 1, 0
            job["data"].append(b"")
        if job["f"] < len(files):
            self._ask()
            return
        self._finish(job)

    def _finish(self, job: dict[str, Any]) -> None:
        files = job["m"]["files"]
        self.report(job["id"], "verifying")
        for (_name, _size, sha), data in zip(files, job["data"], strict=False):
            if hashlib.sha256(data).hexdigest() != sha:
                self.report(job["id"], "failed", reason="hash_mismatch")
                return
        version = job["m"]["version"]
        self.report(job["id"], "installed", version=version)
        self.report(job["id"], "confirmed", version=version)
        self._job = None


class CorruptingLink:
    """The OTA service's MQTT link, flipping a byte in the data of the chunks ``corrupt``
    picks (their ``h`` unchanged): a chunk damaged on the way to the node."""

    def __init__(self, source: MqttSource, corrupt: Callable[[int, int], bool]) -> None:
        self._source = source
        self._corrupt = corrupt
        self.corrupted = 0

    async def next_batch(self, max_messages: int, max_wait_s: float) -> list[InboundMessage]:
        return await self._source.next_batch(max_messages, max_wait_s)

    def ack(self, messages: Sequence[InboundMessage]) -> None:
        self._source.ack(messages)

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        body = json.loads(payload)
        chunk = body.get("otachunk")
        if chunk is not None and self._corrupt(chunk["f"], chunk["o"]):
            data = bytearray(base64.b64decode(chunk["d"]))
            data[0] ^= 0xFF
            chunk["d"] = base64.b64encode(bytes(data)).decode()
            payload = json.dumps(body).encode()
            self.corrupted += 1
        self._source.publish(topic, payload, qos)


@asynccontextmanager
async def running_ota_service(
    db: Database,
    port: int,
    sink: BatchSink | None = None,
    corrupt: Callable[[int, int], bool] | None = None,
) -> AsyncIterator[OtaService]:
    """The gateway's OTA service in this process, on its own MQTT connection."""
    import asyncio

    registry = DeviceRegistry(db)
    provisioning: list[Provisioning] = [await registry.provisioning()]
    source = MqttSource(
        MqttOptions(LOOPBACK, port, f"ota-{uuid.uuid4().hex[:8]}", filters=OTA_FILTERS)
    )
    await source.start()
    link = source if corrupt is None else CorruptingLink(source, corrupt)
    service = OtaService(
        OtaStore(db), link, lambda: provisioning[0], sink, OtaOptions(start_resend_s=2.0)
    )
    tasks = [
        asyncio.create_task(service.serve(), name="ota-reports"),
        asyncio.create_task(service.follow(db), name="ota-starts"),
    ]
    try:
        yield service
    finally:
        await stop_tasks(tasks)
        source.stop()
