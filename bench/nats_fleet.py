"""Readings/s through the NATS broker tier with 1, 2 and 3 `ciudad gateway` workers.

A three-node NATS JetStream cluster (support.nats, MQTT listener on each node) and
PostgreSQL.  For each worker count: the workers' durable consumer is created, a
backlog of readings from 1,000 devices is published over MQTT 3.1.1 QoS 1 spread
over the three nodes (every PUBACK means the reading is in the replicated
``$MQTT_msgs`` stream: this rate is reported as "ingest"), then the `ciudad gateway`
workers (CIUDAD_GATEWAY_INPUT=nats, one shared durable consumer) are started and
the rate at which readings become rows is measured in PostgreSQL from the moment
every worker is ready until the backlog is stored.  Draining a backlog measures
what the workers can take, not what a publisher can offer.

    .venv/bin/python bench/nats_fleet.py --workers 1,2,3 --backlog 60000 --markdown
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nats  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402

from acquisition import NatsOptions, NatsSource, provisioning_document  # noqa: E402
from acquisition.inputs import mqtt_packets as wire  # noqa: E402
from acquisition.inputs.nats import MQTT_STREAM  # noqa: E402
from bench.fleet_processes import (  # noqa: E402
    FLEET_TENANT,
    fleet_devices,
    stored_messages,
)
from capture import ReadingGenerator, encode_measures, measure_topic  # noqa: E402
from knowledge import postmaster_pid, start_embedded_postgres  # noqa: E402
from support.nats import NatsCluster  # noqa: E402
from support.net import free_port  # noqa: E402

CONNECTIONS_PER_NODE = 2
IN_FLIGHT = 2000  # PUBLISHes written ahead of their PUBACKs, per connection


class _Acks(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.acked = 0
        self.connack: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.moved = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        for packet in wire.split_packets(self.buffer):
            if packet.kind == wire.PUBACK:
                self.acked += 1
            elif packet.kind == wire.CONNACK and not self.connack.done():
                self.connack.set_result(True)
        self.moved.set()


def backlog_packets(count: int, offset: int) -> list[tuple[str, bytes]]:
    """``count`` readings of the fleet, each (device, time) distinct, stamped in the past."""
    devices = fleet_devices()
    generators = [ReadingGenerator(d) for d in devices]
    topics = [measure_topic(d.apikey, d.device_id) for d in devices]
    start = time.time() - 600
    return [
        (
            topics[n % len(devices)],
            encode_measures(generators[n % len(devices)].measure(start + n / 1000)),
        )
        for n in range(offset, offset + count)
    ]


async def _publish_on(port: int, messages: list[tuple[str, bytes]], name: str) -> None:
    loop = asyncio.get_running_loop()
    transport, acks = await loop.create_connection(_Acks, "127.0.0.1", port)
    transport.write(wire.connect_packet(wire.ConnectRequest(name, 60, version=4)))
    await asyncio.wait_for(acks.connack, 60)
    for sent, (topic, payload) in enumerate(messages, start=1):
        packet_id = sent % 65535 + 1
        transport.write(wire.publish_packet(topic, payload, 1, packet_id, version=4))
        while sent - acks.acked > IN_FLIGHT:
            acks.moved.clear()
            await acks.moved.wait()
    while acks.acked < len(messages):
        acks.moved.clear()
        await asyncio.wait_for(acks.moved.wait(), 30)
    transport.write(wire.DISCONNECT_PACKET)
    transport.close()


async def publish_backlog(cluster: NatsCluster, messages: list[tuple[str, bytes]]) -> float:
    """Publishes over every node's MQTT listener; returns acknowledged readings/s."""
    ports = [port for port in cluster.mqtt_ports for _ in range(CONNECTIONS_PER_NODE)]
    started = time.monotonic()
    await asyncio.gather(
        *(
            _publish_on(port, messages[n :: len(ports)], f"bench-pub-{n}-{int(started)}")
            for n, port in enumerate(ports)
        )
    )
    return len(messages) / (time.monotonic() - started)


def _gateway_env(
    dsn: str, cluster: NatsCluster, work: Path, name: str, consumer: str
) -> dict[str, str]:
    settings = {
        "database_url": dsn,
        "data_dir": str(work),
        "gateway_input": "nats",
        "nats_urls": ",".join(cluster.nats_urls),
        "nats_consumer": consumer,
        "mqtt_port": str(cluster.mqtt_ports[0]),
        "mqtt_v311": "true",
        "gateway_client_id": name,
        "gateway_ops_port": str(free_port()),
        "provisioning_file": str(work / "fleet.json"),
        "device_max_msgs_per_s": "0",  # a backlog arrives at once, by design
        "retention_interval_s": "0",
        "log_format": "text",
    }
    return dict(os.environ, **{f"CIUDAD_{k.upper()}": v for k, v in settings.items()})


def start_workers(stack: ExitStack, envs: list[dict[str, str]], work: Path) -> list[psutil.Popen]:
    processes = []
    for env in envs:
        log = work / f"{env['CIUDAD_GATEWAY_CLIENT_ID']}.log"
        with log.open("wb") as out:
            process = psutil.Popen(
                [sys.executable, "-m", "ciudad", "gateway"], env=env, stdout=out, stderr=out
            )
        stack.callback(_stop, process)
        processes.append(process)
    for env, process in zip(envs, processes, strict=True):
        _wait_ready(int(env["CIUDAD_GATEWAY_OPS_PORT"]), process, work)
    return processes


def _stop(process: psutil.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except psutil.TimeoutExpired:
        process.kill()


def _wait_ready(port: int, process: psutil.Popen, work: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"a gateway exited; logs in {work}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"a gateway was not ready in 120 s; logs in {work}")


def _cpu_seconds(groups: dict[str, list[psutil.Process]]) -> dict[str, float]:
    totals = {}
    for name, processes in groups.items():
        seconds = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
                seconds += times.user + times.system
            except psutil.Error:
                continue
        totals[name] = seconds
    return totals


async def run_point(ctx: dict[str, Any], workers: int, backlog: int, offset: int) -> dict[str, Any]:
    cluster: NatsCluster = ctx["cluster"]
    consumer = f"bench-w{workers}"
    # The consumer first: $MQTT_msgs keeps only what some consumer is interested in.
    options = NatsOptions(tuple(cluster.nats_urls), consumer=consumer, max_ack_pending=20_000)
    source = NatsSource(options)
    await source.start()
    await source.close()
    before = await _stored(ctx["dsn"])
    ingest = await publish_backlog(cluster, backlog_packets(backlog, offset))
    print(f"workers={workers}: backlog of {backlog} in at {ingest:.0f}/s", file=sys.stderr)
    # Measure the drain, not the third replica still catching up with the backlog.
    settling = time.monotonic()
    await asyncio.to_thread(cluster.wait_healthy, 120.0, ("$MQTT_msgs",))
    settle_s = round(time.monotonic() - settling, 2)
    work: Path = ctx["work"]
    envs = [
        _gateway_env(ctx["dsn"], cluster, work, f"{consumer}-{n}", consumer) for n in range(workers)
    ]
    with ExitStack() as stack:
        processes = start_workers(stack, envs, work)
        ready_at, at_ready = time.monotonic(), await _stored(ctx["dsn"]) - before
        groups = _groups(ctx, processes)
        cpu0 = _cpu_seconds(groups)
        stored = at_ready
        while stored < backlog and time.monotonic() - ready_at < 300:
            await asyncio.sleep(0.2)
            stored = await _stored(ctx["dsn"]) - before
        window = time.monotonic() - ready_at
        cpu = _cpu_seconds(groups)
    # Gone with its workers, as in a deployment: a consumer left behind would keep an
    # interest in every later message, and the next point's acks would delete nothing.
    await _delete_consumer(cluster, consumer)
    return {
        "workers": workers,
        "backlog": backlog,
        "ingest_per_s": round(ingest),
        "replicas_caught_up_s": settle_s,
        "stored": stored,
        "stored_vs_published": round(stored / backlog, 4),
        "stored_before_all_ready": at_ready,
        "window_s": round(window, 2),
        "stored_per_s": round((stored - at_ready) / window),
        "cpu_pct": {k: round(100 * (cpu[k] - cpu0[k]) / window, 1) for k in cpu},
    }


async def _delete_consumer(cluster: NatsCluster, consumer: str) -> None:
    client = await nats.connect(cluster.nats_urls)
    try:
        await client.jetstream().delete_consumer(MQTT_STREAM, consumer)
    finally:
        await client.close()


def _groups(ctx: dict[str, Any], workers: list[psutil.Popen]) -> dict[str, list[psutil.Process]]:
    cluster: NatsCluster = ctx["cluster"]
    nats = [psutil.Process(n.process.pid) for n in cluster.nodes if n.process is not None]
    groups: dict[str, list[psutil.Process]] = {"gateways": list(workers), "nats-server": nats}
    postmaster = postmaster_pid(ctx["work"] / "pg")
    if postmaster is not None:
        main = psutil.Process(postmaster)
        groups["postgresql"] = [main, *main.children()]
    return groups


async def main_async(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    cluster = NatsCluster(work / "nats")
    cluster.start()
    try:
        dsn = await asyncio.to_thread(start_embedded_postgres, work / "pg")
        document = provisioning_document(fleet_devices(), FLEET_TENANT, 1)
        (work / "fleet.json").write_text(json.dumps(document))
        ctx = {"cluster": cluster, "dsn": dsn, "work": work}
        runs = []
        for index, workers in enumerate(args.workers):
            runs.append(await run_point(ctx, workers, args.backlog, index * args.backlog))
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    finally:
        cluster.stop()
        _stop_postgres(work / "pg")
    return {"nodes": len(cluster.nodes), "devices": len(fleet_devices()), "runs": runs}


def _stop_postgres(directory: Path) -> None:
    """Fast shutdown now: pgserver's own at exit would find its directory already gone."""
    pid = postmaster_pid(directory)
    if pid is not None:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            process.send_signal(signal.SIGINT)
            process.wait(30)


async def _stored(dsn: str) -> int:
    try:
        return await stored_messages(dsn)
    except psycopg.errors.UndefinedTable:  # no gateway has made the schema yet
        return 0


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"\n{report['nodes']} NATS nodes (JetStream R3, MQTT 3.1.1 QoS 1 in), "
        f"{report['devices']} devices, one reading per message\n",
        "| workers | backlog | ingest/s (acknowledged) | stored/s | stored/published "
        "| CPU % gateways / nats-server / PostgreSQL |",
        "|---|---|---|---|---|---|",
    ]
    for run in report["runs"]:
        cpu = run["cpu_pct"]
        shares = " / ".join(str(cpu.get(k, "-")) for k in ("gateways", "nats-server", "postgresql"))
        lines.append(
            f"| {run['workers']} | {run['backlog']} | {run['ingest_per_s']} | "
            f"{run['stored_per_s']} | {run['stored_vs_published']} | {shares} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--backlog", type=int, default=60_000)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(main_async(args, Path(tmp)))
    print(json.dumps(report, indent=2))
    if args.markdown:
        print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
