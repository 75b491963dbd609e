"""Serial concentrator -> pty pair -> bridge -> mosquitto -> gateway -> PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import serial

from acquisition import MeasurePipeline
from capture import (
    BadLineError,
    SerialBridge,
    connect_publisher,
    drain_and_close,
    format_time,
    parse_line,
)
from knowledge import PostgresStore
from support.mosquitto import MosquittoBroker
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.gateway import running_gateway
from tests.helpers.nodes import latest
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two connected pseudo-terminals, as a USB serial cable would give (socat)."""
    socat = shutil.which("socat")
    assert socat, "socat is installed by scripts/setup.sh"
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"
    proc = subprocess.Popen(
        [socat, f"pty,raw,echo=0,ignoreeof,link={a}", f"pty,raw,echo=0,ignoreeof,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while not (a.exists() and b.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    yield str(a), str(b)
    proc.terminate()
    proc.wait(5)


def test_lines_become_the_messages_their_devices_would_send() -> None:
    json_line = parse_line(b'k dev-1 {"t":"2026-01-01T00:00:00Z","laeq":50}\n')
    assert (json_line.topic, json_line.payload) == (
        "/json/k/dev-1/attrs",
        b'{"t":"2026-01-01T00:00:00Z","laeq":50}',
    )
    assert parse_line(b"k dev-1 t|2026-01-01T00:00:00Z|st|free").topic == "/ul/k/dev-1/attrs"
    for bad in (b"only-two fields", b"k dev/1 t|x|st|free", b"\xff\xfe x y", b"x" * 70000):
        with pytest.raises(BadLineError):
            parse_line(bad)


async def test_concentrator_feed_reaches_the_store(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    pty_pair: tuple[str, str],
    tmp_path: Path,
) -> None:
    concentrator_end, bridge_end = pty_pair
    stamp = format_time(datetime.now(UTC).timestamp() - 5)
    lines = [
        f'{APIKEY} noise-003 {{"t":"{stamp}","laeq":57.5}}\n',
        f"{APIKEY} parking-004 t|{stamp}|st|occupied\n",
        "garbage-line\n",
    ]
    client = connect_publisher("127.0.0.1", mosquitto.port, f"bridge-{uuid.uuid4().hex[:6]}")
    stop = threading.Event()
    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}"):
        with serial.Serial(bridge_end, 115200, timeout=0.2) as port:
            bridge = SerialBridge(port, client, tmp_path / "rejects.log")
            runner = threading.Thread(target=bridge.run, args=(stop,))
            runner.start()
            try:
                with serial.Serial(concentrator_end, 115200) as concentrator:
                    for line in lines:
                        concentrator.write(line.encode())
                    concentrator.flush()

                async def both_stored() -> bool:
                    try:
                        noise = await latest(
                            store, f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:noise-003"
                        )
                        spot = await latest(store, f"urn:ngsi-ld:ParkingSpot:{TENANT}:parking-004")
                    except Exception:
                        return False
                    return (noise["LAeq"], spot["status"]) == (57.5, "occupied")

                await wait_until(both_stored)
            finally:
                stop.set()
                await asyncio.to_thread(runner.join, 5)
                drain_and_close(client)
    assert (bridge.forwarded, bridge.rejected) == (2, 1)
    assert "garbage-line" in (tmp_path / "rejects.log").read_text()
