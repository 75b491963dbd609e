"""A ``ciudad demo`` process for tests: output read as it comes, waits on events."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from knowledge import postmaster_pid
from tests.helpers.waiting import CEILING_S, eventually

# 29 simulated devices (6 noise, 3 air, 12 parking, 8 lamps) and their Device entities.
FLEET_ENTITIES = 58
TYPES = {"NoiseLevelObserved", "AirQualityObserved", "ParkingSpot", "Streetlight", "Device"}
# Ceilings only: each wait ends as soon as its event is seen; a busy machine may be slow.
READY_S = max(CEILING_S, 180.0)  # a demo starts four processes
EXIT_S = 90.0


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


class Demo:
    """A ``ciudad demo`` process whose output is read line by line as it comes."""

    def __init__(
        self, data_dir: Path, api_port: int, *extra: str, env: dict[str, str] | None = None
    ) -> None:
        env = dict(
            os.environ,
            CIUDAD_DATA_DIR=str(data_dir),
            CIUDAD_API_PORT=str(api_port),
            CIUDAD_SIM_INTERVAL_S="2",
            **(env or {}),
        )
        self.data_dir = data_dir
        self.api = f"http://127.0.0.1:{api_port}"
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ciudad", "demo", *extra],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._new.put(line.rstrip("\n"))
        self._new.put(None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout_s: float = READY_S) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        for line in self.lines:
            if found := re.search(pattern, line):
                return found
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._new.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"the demo exited before printing {pattern!r}:\n{self.output}")
            self.lines.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"waited {timeout_s:.0f} s for {pattern!r}:\n{self.output}")

    def started_processes(self) -> dict[str, int]:
        """Every process the demo started: its children and the embedded PostgreSQL."""
        started = {
            " ".join(p.cmdline()[1:4]): p.pid
            for p in psutil.Process(self.process.pid).children(recursive=True)
        }
        pg = postmaster_pid(self.data_dir / "pg")
        assert pg is not None, "the embedded PostgreSQL is not running"
        started["postgres"] = pg
        return started

    def wait_exit(self) -> int:
        code = self.process.wait(EXIT_S)
        while (line := self._new.get(timeout=EXIT_S)) is not None:
            self.lines.append(line)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(EXIT_S)
        assert self.process.stdout is not None
        self.process.stdout.close()


def wait_for_fleet(api: str, timeout_s: float = READY_S) -> list[dict[str, Any]]:
    """The demo's entities once every simulated device and its Device entity are stored."""

    def whole_fleet() -> list[dict[str, Any]]:
        try:
            entities: list[dict[str, Any]] = get_json(f"{api}/ngsi-ld/v1/entities?limit=1000")
        except OSError:
            return []
        # Other entities may come too (Alert entities, once the demo's evaluator raises one).
        fleet = [e for e in entities if e["type"] in TYPES]
        whole = {e["type"] for e in fleet} == TYPES and len(fleet) >= FLEET_ENTITIES
        return fleet if whole else []

    what = f"{FLEET_ENTITIES} entities of every type {sorted(TYPES)}"
    found: list[dict[str, Any]] = eventually(whole_fleet, timeout_s, what)
    return found
