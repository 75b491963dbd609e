"""HIL fixtures: a node on a serial line, a broker it reaches, the gateway and the store.

Without options, each test gets the firmware running on the MicroPython unix port,
connected through a socat pty pair. With ``--hil-port /dev/ttyUSB0 --hil-node noise``
the same tests drive a real ESP32 test build (docs/hil.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from hil_tests.flash_test_build import site_for_test_build
from hil_tests.rig import Rig
from support.mosquitto import MosquittoBroker
from support.net import free_port
from tests.conftest import (  # noqa: F401 - fixtures shared with the main suite
    database_url,
    fleet,
    mosquitto,
    pipeline,
    postgres_uri,
    provisioning,
    store,
    validator,
)

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
KINDS = ("noise", "air", "parking", "streetlight")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop rigs")
    group.addoption("--hil-port", help="serial port of a real node (default: unix-port nodes)")
    group.addoption("--hil-node", choices=KINDS, help="kind of the node on --hil-port")
    group.addoption(
        "--hil-broker-host",
        default="127.0.0.1",
        help="address the rig's broker listens on (a real board must reach it)",
    )
    group.addoption(
        "--hil-broker-port",
        type=int,
        default=0,
        help="its port (0: a free one; set it to what the board is flashed with)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kind" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--hil-node")
        marker = metafunc.definition.get_closest_marker("kinds")
        kinds = [k for k in (marker.args if marker else KINDS) if chosen in (None, k)]
        metafunc.parametrize("kind", kinds)


@pytest.fixture
def hil_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MosquittoBroker]:
    host = request.config.getoption("--hil-broker-host")
    port = request.config.getoption("--hil-broker-port") or free_port()
    broker = MosquittoBroker(port, tmp_path / "broker", host=host)
    broker.start()
    yield broker
    broker.stop()


def _micropython() -> str:
    found = Path(sys.executable).with_name("micropython")
    return str(found) if found.exists() else "micropython"


def unix_port_site(kind: str, broker: MosquittoBroker, work: Path, pty: str) -> dict[str, Any]:
    """A board's test build, with the stimulus on a pty and its files in ``work``."""
    return {
        **site_for_test_build(kind, "127.0.0.1", broker.port),
        "stimulus_port": pty,
        "scenario_file": str(work / "scenario.json"),
        "buffer_file": str(work / "buffer.dat"),
        "state_file": str(work / "state.json"),
    }


@pytest.fixture
def rig(
    request: pytest.FixtureRequest, kind: str, hil_broker: MosquittoBroker, tmp_path: Path
) -> Iterator[Rig]:
    real_port = request.config.getoption("--hil-port")
    if real_port:
        with serial.Serial(real_port, 115200, timeout=0.5) as port:
            yield Rig(port)
        return
    socat = shutil.which("socat")
    assert socat, "socat is installed by scripts/setup.sh"
    host_end, node_end = tmp_path / "host", tmp_path / "node"
    # ignoreeof: keep the pair up while either end is closed (e.g. across a node reset).
    relay = subprocess.Popen(
        [
            socat,
            f"pty,raw,echo=0,ignoreeof,link={host_end}",
            f"pty,raw,echo=0,ignoreeof,link={node_end}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while not (host_end.exists() and node_end.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    (tmp_path / "scenario.json").write_text(json.dumps({"noise_db": 55.0}))
    site = unix_port_site(kind, hil_broker, tmp_path, str(node_end))
    (tmp_path / "site.json").write_text(json.dumps(site))
    with (tmp_path / "node.log").open("wb") as log:
        node = subprocess.Popen(
            [_micropython(), str(FIRMWARE / "main.py"), str(tmp_path / "site.json"), "120"],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            with serial.Serial(str(host_end), 115200, timeout=0.5) as port:
                yield Rig(port)
        finally:
            node.kill()
            node.wait()
            relay.terminate()
            relay.wait()
