"""``ciudad demo``: the whole platform on one machine, with the embedded defaults.

Starts a private mosquitto on a free loopback port, the embedded PostgreSQL,
then the gateway, the API and the simulator as child processes; prints the
URLs to open and a progress line every few seconds; stops everything on
Ctrl-C, SIGTERM or after ``--duration``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from ciudad.runners import write_fleet_provisioning
from knowledge import embedded_postgres
from support import CiudadError, Settings
from support.mosquitto import MosquittoBroker
from support.net import LOOPBACK, free_port, port_is_free


@dataclass(frozen=True, slots=True)
class DemoOptions:
    duration_s: float | None
    backfill_s: float
    progress_every_s: float = 5.0


class Child:
    """A ``python -m ciudad <command>`` child process logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ciudad", *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Out of the terminal's process group: a Ctrl-C reaches the demo alone, which
            # then stops the children in order (simulator first, the broker last).
            start_new_session=True,
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _child_env(
    settings: Settings, dsn: str, mqtt_port: int, ports: tuple[int, int], provisioning: Path
) -> dict[str, str]:
    api_port, ops_port = ports
    env = dict(os.environ)
    env.update(
        {
            "CIUDAD_DATA_DIR": str(settings.data_dir),
            "CIUDAD_DATABASE_URL": dsn,
            "CIUDAD_MQTT_HOST": LOOPBACK,
            "CIUDAD_MQTT_PORT": str(mqtt_port),
            "CIUDAD_API_PORT": str(api_port),
            "CIUDAD_GATEWAY_OPS_PORT": str(ops_port),
            "CIUDAD_PROVISIONING_FILE": str(provisioning),
            "CIUDAD_DEFAULT_TENANT": settings.sim_tenant,
            # The demo's API listens on loopback only and is open, so browsers can follow
            # the printed links; `ciudad api` on its own asks for API keys.
            "CIUDAD_API_AUTH": "off",
            # Everything runs on this machine: subscriptions and contexts may point here.
            "CIUDAD_OUTBOUND_ALLOW": "127.0.0.0/8,::1,localhost",
        }
    )
    return env


def _wait_ready(url: str, timeout_s: float, stop: threading.Event) -> bool:
    """True once ``url`` (a /health/ready) answers 200; False on time-out or a stop."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - fixed http URL
                return True
        except OSError:
            stop.wait(0.2)
    return False


def _entity_count(api: str) -> str:
    try:
        with urllib.request.urlopen(  # noqa: S310 - fixed http URL
            f"{api}/ngsi-ld/v1/entities?limit=0&count=true", timeout=2
        ) as r:
            return str(r.headers.get("NGSILD-Results-Count", "?"))
    except OSError:
        return "?"


def run_demo(settings: Settings, options: DemoOptions) -> int:
    """Runs the demo; returns the process exit code."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Ctrl-C and SIGTERM (systemd, CI, `timeout`) both end up in the same orderly stop,
    # wherever the demo is, so every child and server it started is stopped.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    demo_dir = settings.data_dir.resolve()
    log_dir = demo_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    api_port = settings.api_port if port_is_free(settings.api_port) else free_port()
    ops_port = settings.gateway_ops_port if port_is_free(settings.gateway_ops_port) else free_port()
    api = f"http://{LOOPBACK}:{api_port}"
    with ExitStack() as cleanup:
        broker = MosquittoBroker(free_port(), demo_dir / "mosquitto")
        broker.start()
        cleanup.callback(broker.stop)
        print(f"mosquitto      mqtt://{LOOPBACK}:{broker.port}", flush=True)
        if settings.database_url is not None:
            dsn = settings.database_url.get_secret_value()
            print("PostgreSQL     CIUDAD_DATABASE_URL", flush=True)
        else:
            dsn = cleanup.enter_context(embedded_postgres(settings.embedded_db_dir.resolve()))
            print(f"PostgreSQL     embedded, {settings.embedded_db_dir.resolve()}", flush=True)
        provisioning = demo_dir / "provisioning.json"
        devices = write_fleet_provisioning(settings, provisioning)
        print(f"provisioning   {devices} devices -> {provisioning}", flush=True)
        env = _child_env(settings, dsn, broker.port, (api_port, ops_port), provisioning)
        children = [
            Child("gateway", ["gateway"], env, log_dir),
            Child("api", ["api"], env, log_dir),
        ]
        for child in children:
            cleanup.callback(child.stop)
        ops = f"http://{LOOPBACK}:{ops_port}"
        for name, url in (("api", f"{api}/health/ready"), ("gateway", f"{ops}/health/ready")):
            if not _wait_ready(url, 60, stop) and not stop.is_set():
                raise CiudadError(f"the {name} is not ready; see {log_dir / (name + '.log')}")
        if stop.is_set():
            print("stopping...", flush=True)
            return 0
        simulate_args = ["simulate", "--backfill", str(options.backfill_s)]
        simulator = Child("simulator", simulate_args, env, log_dir)
        cleanup.callback(simulator.stop)
        children.append(simulator)
        _print_urls(api, log_dir)
        print(f"gateway ops    {ops}/metrics  {ops}/health/ready", flush=True)
        return _supervise(children, api, options, stop)


def _print_urls(api: str, log_dir: Path) -> None:
    print(f"dashboard      {api}/dashboard", flush=True)
    print(f"API            {api}/docs  (OpenAPI UI)", flush=True)
    print(f"entities       {api}/ngsi-ld/v1/entities?type=NoiseLevelObserved", flush=True)
    print(f"history        {api}/ngsi-ld/v1/temporal/entities/<id>?lastN=10", flush=True)
    print(f"noise Leq      {api}/ciudad/v1/services/noise/leq?timeAt=...&endTimeAt=...", flush=True)
    print(
        f"hourly Leq     {api}/ngsi-ld/v1/temporal/entities/<id>?options=aggregatedValues"
        "&aggrMethods=avg,max,l90&aggrPeriodDuration=PT1H",
        flush=True,
    )
    print(f"KPI board      {api}/ciudad/v1/services/kpi", flush=True)
    print(f"alerts         {api}/ciudad/v1/services/alerts", flush=True)
    print(f"open data      {api}/ciudad/v1/opendata", flush=True)
    print(f"dead letters   {api}/ciudad/v1/dead-letters", flush=True)
    print(f"logs           {log_dir}/", flush=True)
    print("Ctrl-C stops the demo.", flush=True)


def _supervise(children: list[Child], api: str, options: DemoOptions, stop: threading.Event) -> int:
    started = time.monotonic()
    next_report = started + options.progress_every_s
    while not stop.is_set():
        elapsed = time.monotonic() - started
        if options.duration_s is not None and elapsed >= options.duration_s:
            break
        for child in children:
            if child.name != "simulator" and child.process.poll() is not None:
                print(
                    f"{child.name} exited ({child.process.returncode}); see {child.log_path}",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
        if time.monotonic() >= next_report:
            print(f"[{elapsed:5.0f} s] entities: {_entity_count(api)}", flush=True)
            next_report += options.progress_every_s
        stop.wait(0.5)
    print("stopping...", flush=True)
    return 0
