"""`ciudad demo` as a user runs it: one command, real processes, data through every layer."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from support.net import free_port, port_is_free

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TYPES = {"NoiseLevelObserved", "AirQualityObserved", "ParkingSpot", "Streetlight", "Device"}


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_for_all_types(api: str, timeout_s: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    entities: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            entities = get_json(f"{api}/ngsi-ld/v1/entities?limit=1000")
        except OSError:
            entities = []
        if {e["type"] for e in entities} == TYPES:
            return entities
        time.sleep(0.5)
    raise AssertionError(f"not every type arrived: {sorted({e['type'] for e in entities})}")


def test_demo_runs_the_platform_end_to_end_and_cleans_up(tmp_path: Path) -> None:
    api_port = free_port()
    env = dict(
        os.environ,
        CIUDAD_DATA_DIR=str(tmp_path / "data"),
        CIUDAD_API_PORT=str(api_port),
        CIUDAD_SIM_INTERVAL_S="2",
    )
    demo = subprocess.Popen(
        [sys.executable, "-m", "ciudad", "demo", "--duration", "15", "--backfill", "600"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        api = f"http://127.0.0.1:{api_port}"
        entities = wait_for_all_types(api, timeout_s=20)
        noise = next(e for e in entities if e["type"] == "NoiseLevelObserved")
        history = get_json(f"{api}/ngsi-ld/v1/temporal/entities/{noise['id']}?attrs=LAeq")
        assert len(history["LAeq"]) >= 300  # the 600 s backlog at 2 s intervals
        output, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
    assert demo.returncode == 0, output
    assert f"{api}/docs" in output
    assert "entities: 58" in output  # 29 observed entities and their 29 Device entities
    broker_port = int(re.search(r"mqtt://127\.0\.0\.1:(\d+)", output).group(1))  # type: ignore[union-attr]
    assert port_is_free(broker_port), "demo left mosquitto running"
    assert port_is_free(api_port), "demo left the API running"
    logs = tmp_path / "data" / "logs"
    assert {p.name for p in logs.iterdir()} == {"gateway.log", "api.log", "simulator.log"}
    assert "dead-lettered" not in (logs / "gateway.log").read_text()
    leftover = subprocess.run(
        ["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert leftover.stdout == "", f"processes left running: {leftover.stdout}"
