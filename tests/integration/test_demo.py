"""`ciudad demo` as a user runs it: one command, real processes, data through every layer."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from knowledge import postmaster_pid
from support.net import free_port, port_is_free
from tests.helpers.demo_process import Demo, get_json, wait_for_fleet
from tests.helpers.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def demo_factory(tmp_path: Path) -> Any:
    started: list[Demo] = []

    def start(*extra: str) -> Demo:
        demo = Demo(tmp_path / "data", free_port(), *extra)
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.kill()


def assert_all_gone(demo: Demo, processes: dict[str, int]) -> None:
    alive = {name: pid for name, pid in processes.items() if psutil.pid_exists(pid)}
    # An exited child not yet reaped by anyone would still show; zombies count as gone.
    alive = {n: p for n, p in alive.items() if psutil.Process(p).status() != "zombie"}
    assert alive == {}, f"the demo left these running: {alive}"
    broker_port = int(demo.wait_for_line(r"mqtt://127\.0\.0\.1:(\d+)").group(1))
    assert port_is_free(broker_port), "demo left mosquitto's port open"
    assert port_is_free(int(demo.api.rsplit(":", 1)[1])), "demo left the API's port open"
    assert postmaster_pid(demo.data_dir / "pg") is None, "the embedded PostgreSQL still runs"


def test_demo_runs_the_platform_end_to_end_and_cleans_up_on_sigterm(demo_factory: Any) -> None:
    demo = demo_factory("--backfill", "600")
    demo.wait_for_line("Ctrl-C stops the demo")
    processes = demo.started_processes()
    assert len(processes) == 5, processes  # mosquitto, gateway, api, simulator, postgres

    entities = wait_for_fleet(demo.api)
    noise = next(e for e in entities if e["type"] == "NoiseLevelObserved")
    history_url = f"{demo.api}/ngsi-ld/v1/temporal/entities/{noise['id']}?attrs=LAeq"
    # The 600 s backlog at 2 s intervals arrives as one message per device.
    eventually(lambda: len(get_json(history_url)["LAeq"]) >= 300, what="the noise backlog")
    # 29 observed entities and their 29 Device entities, in the demo's own progress line.
    demo.wait_for_line(r"entities: 58$")

    demo.process.send_signal(signal.SIGTERM)
    assert demo.wait_exit() == 0, demo.output
    assert "stopping..." in demo.output
    assert f"{demo.api}/docs" in demo.output
    assert_all_gone(demo, processes)
    logs = demo.data_dir / "logs"
    assert {p.name for p in logs.iterdir()} == {"gateway.log", "api.log", "simulator.log"}
    assert "dead-lettered" not in (logs / "gateway.log").read_text()


@pytest.mark.parametrize("how", ["SIGINT", "--duration"])
def test_demo_stops_everything_it_started(demo_factory: Any, how: str) -> None:
    demo = demo_factory("--duration", "3") if how == "--duration" else demo_factory()
    demo.wait_for_line("Ctrl-C stops the demo")
    processes = demo.started_processes()
    if how == "SIGINT":
        demo.process.send_signal(signal.SIGINT)
    assert demo.wait_exit() == 0, demo.output
    assert_all_gone(demo, processes)


def test_demo_stopped_while_starting_leaves_nothing(demo_factory: Any) -> None:
    demo = demo_factory()
    demo.wait_for_line(r"^PostgreSQL\s+embedded")  # broker and database up, children coming
    demo.process.send_signal(signal.SIGTERM)
    assert demo.wait_exit() == 0, demo.output
    assert postmaster_pid(demo.data_dir / "pg") is None, "the embedded PostgreSQL still runs"
    leftover = [p.pid for p in psutil.process_iter(["cmdline"]) if str(demo.data_dir) in
                " ".join(p.info["cmdline"] or [])]  # fmt: skip
    assert leftover == [], f"processes left running: {leftover}"


def test_demo_stops_its_database_after_an_earlier_client_was_killed(
    demo_factory: Any, tmp_path: Path
) -> None:
    """A process killed while it used the embedded server stays on pgserver's client list."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from knowledge import start_embedded_postgres;"
         f"start_embedded_postgres(__import__('pathlib').Path({str(tmp_path / 'data' / 'pg')!r}));"
         "print('up', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    with holder.stdout:
        assert holder.stdout.readline().strip() == "up"
        holder.kill()
        holder.wait()
    assert postmaster_pid(tmp_path / "data" / "pg") is not None
    demo = demo_factory("--duration", "1")
    demo.wait_for_line("Ctrl-C stops the demo")
    processes = demo.started_processes()
    assert demo.wait_exit() == 0, demo.output
    assert_all_gone(demo, processes)
