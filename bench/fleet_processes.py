"""The deployed pieces of the fleet bench: fleet, `ciudad gateway` workers, `ciudad api`,
and a sampler of each process's CPU and memory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

from acquisition import provisioning_document
from capture import DeviceSpec, NodeKind, build_fleet
from knowledge import postmaster_pid
from support.mosquitto import MosquittoBroker
from support.net import free_port

FLEET_APIKEY = "fleet"
FLEET_TENANT = "fleet"
DEVICES_PER_KIND = 250  # four kinds: 1,000 devices
_SAMPLE = re.compile(
    rb"^(ciudad_gateway_messages_total|ciudad_gateway_batch_messages_(?:sum|count)"
    rb"|ciudad_store_write_seconds_(?:sum|count)) ([0-9.e+]+)$",
    re.MULTILINE,
)


def fleet_devices() -> tuple[DeviceSpec, ...]:
    return build_fleet(42.6, -5.57, FLEET_APIKEY, dict.fromkeys(NodeKind, DEVICES_PER_KIND))


def _environment(dsn: str, work: Path, **settings: str) -> dict[str, str]:
    return dict(
        os.environ,
        CIUDAD_DATABASE_URL=dsn,
        CIUDAD_DATA_DIR=str(work),
        **{f"CIUDAD_{k.upper()}": v for k, v in settings.items()},
    )


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in 120 s: {log.read_text()[-2000:]}")


def _start(
    stack: ExitStack, command: str, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ciudad", command], env=env, stdout=out, stderr=out
        )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()

    stack.callback(stop)
    return process


def start_api(stack: ExitStack, dsn: str, work: Path) -> tuple[str, int]:
    port = free_port()
    env = _environment(dsn, work, api_port=str(port), api_auth="off", gateway_ops_port="0")
    process = _start(stack, "api", env, work / "api.log")
    url = f"http://127.0.0.1:{port}"
    _wait_ready(f"{url}/health/ready", process, work / "api.log")
    return url, process.pid


def start_gateways(
    stack: ExitStack, dsn: str, mqtt_port: int, work: Path, workers: int
) -> dict[int, int]:
    """`ciudad gateway` workers on one shared subscription; returns their pid -> ops port."""
    provisioning = work / "fleet.json"
    document = provisioning_document(fleet_devices(), FLEET_TENANT, 1)
    provisioning.write_text(json.dumps(document))
    group = f"fleet{int(time.time())}"
    workers_ports: dict[int, int] = {}
    for n in range(workers):
        ops = free_port()
        env = _environment(
            dsn,
            work,
            mqtt_host="127.0.0.1",
            mqtt_port=str(mqtt_port),
            gateway_client_id=f"{group}-w{n}",
            gateway_share_group=group,
            gateway_ops_port=str(ops),
            provisioning_file=str(provisioning),
            device_max_msgs_per_s="50",  # above the offered 10/s per device; limiter stays on
        )
        log = work / f"gateway-{group}-{n}.log"
        process = _start(stack, "gateway", env, log)
        _wait_ready(f"http://127.0.0.1:{ops}/health/ready", process, log)
        workers_ports[process.pid] = ops
    return workers_ports


async def stored_messages(dsn: str) -> int:
    """Messages of the fleet stored: one per device and observation time."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM (SELECT DISTINCT entity_id, observed_at "
            "FROM ciudad_observations WHERE tenant = %s) AS messages",
            (FLEET_TENANT,),
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0


@dataclass
class ProcessSampler:
    gateways: dict[int, int]  # pid -> ops port
    api: int
    broker: MosquittoBroker
    pg_directory: Path
    _cpu0: dict[str, float] = field(default_factory=dict)
    _rss: dict[str, int] = field(default_factory=dict)
    _rss0: dict[str, int] = field(default_factory=dict)
    _started: float = 0.0

    def _groups(self) -> dict[str, list[psutil.Process]]:
        groups: dict[str, list[psutil.Process]] = {}
        for n, pid in enumerate(self.gateways):
            groups[f"gateway-{n}"] = [psutil.Process(pid)]
        groups["api"] = [psutil.Process(self.api)]
        if self.broker.process is not None:
            groups["mosquitto"] = [psutil.Process(self.broker.process.pid)]
        postmaster = postmaster_pid(self.pg_directory)
        if postmaster is not None:
            main = psutil.Process(postmaster)
            groups["postgresql"] = [main, *main.children()]
        groups["bench+publishers"] = [psutil.Process(), *psutil.Process().children()]
        return groups

    def _cpu(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for name, processes in self._groups().items():
            seconds = 0.0
            for p in processes:
                try:
                    t = p.cpu_times()
                    seconds += t.user + t.system
                    self._rss[name] = max(self._rss.get(name, 0), p.memory_info().rss)
                except psutil.Error:
                    continue
            totals[name] = seconds
        return totals

    def reset(self) -> None:
        self._rss.clear()
        self._cpu0 = self._cpu()
        self._rss0 = dict(self._rss)  # at the start: with the maximum, says whether it grew
        self._started = time.monotonic()

    def sample(self) -> None:
        self._cpu()  # keeps the maximum RSS current

    def summary(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self._started
        now = self._cpu()
        return {
            name: {
                "cpu_pct": round(100 * (now[name] - self._cpu0.get(name, 0.0)) / elapsed, 1),
                "start_rss_mb": round(self._rss0.get(name, 0) / 2**20, 1),
                "max_rss_mb": round(self._rss.get(name, 0) / 2**20, 1),
            }
            for name in now
        }

    def gateway_metrics(self) -> dict[str, float]:
        """Totals over the workers of what their /metrics say."""
        totals: dict[str, float] = {}
        for port in self.gateways.values():
            body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).content
            for name, value in _SAMPLE.findall(body):
                key = name.decode()
                totals[key] = totals.get(key, 0.0) + float(value)
        return totals

    def gateway_messages(self) -> int:
        return int(self.gateway_metrics().get("ciudad_gateway_messages_total", 0.0))
