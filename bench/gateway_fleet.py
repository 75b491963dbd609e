"""Sustained-rate ingest: a fleet of 1,000 devices publishing at a fixed rate.

Unlike gateway_throughput.py (which drains a backlog of a small fleet), this runs
the platform as deployed: `ciudad gateway` worker processes (one, or several on a
shared subscription) and `ciudad api`, mosquitto and PostgreSQL, while publisher
processes offer a fixed total rate for N seconds from 1,000 distinct devices. It
reports, per offered rate and worker count: stored/sent (exact, counted in
PostgreSQL), the largest backlog (sent - stored, from the gateways' metrics), how
long the backlog took to drain after publishing stopped, publish-to-queryable
latency through the API (p50/p99, sampled by polling 10 probe devices every 50 ms),
and CPU and maximum RSS per process.

    .venv/bin/python bench/gateway_fleet.py --rates 2500,5000,10000 --workers 1,2 --markdown
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fleet_processes import (  # noqa: E402
    FLEET_APIKEY,
    FLEET_TENANT,
    ProcessSampler,
    fleet_devices,
    start_api,
    start_gateways,
    stored_messages,
)
from bench.fleet_publisher import Offer, publish_fleet  # noqa: E402
from bench.fleet_report import latency_summary, markdown  # noqa: E402
from knowledge import start_embedded_postgres  # noqa: E402
from support.mosquitto import MosquittoBroker  # noqa: E402
from support.net import free_port  # noqa: E402

PUBLISHERS = 2  # one Python publisher process tops out near 10,000 messages/s


async def _probe(api_url: str, ids: list[str], until: float, samples: list[float]) -> None:
    """Polls the probe devices' entities; each newly visible reading is a latency sample."""
    import httpx

    seen: dict[str, str] = {}
    params = {"id": ",".join(ids), "attrs": "LAeq", "limit": "100"}
    headers = {"NGSILD-Tenant": FLEET_TENANT}
    async with httpx.AsyncClient(base_url=api_url, timeout=5) as client:
        while time.time() < until:
            response = await client.get("/ngsi-ld/v1/entities", params=params, headers=headers)
            now = time.time()
            for entity in response.json() if response.status_code == 200 else []:
                observed = entity.get("LAeq", {}).get("observedAt")
                if observed and seen.get(entity["id"]) != observed:
                    if entity["id"] in seen:
                        samples.append(now - _epoch(observed))
                    seen[entity["id"]] = observed
            await asyncio.sleep(0.05)


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _offer(port: int, rate: float, seconds: float, acked: Any) -> list[Any]:
    devices = fleet_devices()
    start_at = time.time() + 1.0
    processes = []
    for n in range(PUBLISHERS):
        offer = Offer(port, rate / PUBLISHERS, seconds, start_at)
        process = multiprocessing.Process(
            target=publish_fleet,
            args=(devices[n::PUBLISHERS], offer, f"fleet-pub-{n}-{int(start_at)}", acked),
        )
        process.start()
        processes.append(process)
    return processes


async def _run_one(ctx: dict[str, Any], rate: float, seconds: float) -> dict[str, Any]:
    acked = multiprocessing.Value("q", 0)
    sampler: ProcessSampler = ctx["sampler"]
    before = await stored_messages(ctx["dsn"])
    metrics0 = sampler.gateway_metrics()
    baseline = int(metrics0.get("ciudad_gateway_messages_total", 0))
    sampler.reset()
    publishers = _offer(ctx["broker"].port, rate, seconds, acked)
    samples: list[float] = []
    prefix = f"urn:ngsi-ld:NoiseLevelObserved:{FLEET_APIKEY}:"
    probe_ids = [prefix + d.device_id for d in ctx["probes"]]
    started = time.time()
    probe = asyncio.create_task(_probe(ctx["api_url"], probe_ids, started + seconds + 30, samples))
    max_backlog = 0
    while any(p.is_alive() for p in publishers):
        await asyncio.sleep(0.5)
        sampler.sample()
        max_backlog = max(max_backlog, acked.value - (sampler.gateway_messages() - baseline))
    published_at = time.time()
    total = int(rate / PUBLISHERS * seconds) * PUBLISHERS
    while sampler.gateway_messages() - baseline < total and time.time() - published_at < 120:
        await asyncio.sleep(0.05)
        sampler.sample()
    drained_at = time.time()
    probe.cancel()
    await asyncio.gather(probe, return_exceptions=True)
    stored = await stored_messages(ctx["dsn"]) - before
    return {
        **_batches(metrics0, sampler.gateway_metrics()),
        "offered_per_s": rate,
        "seconds": seconds,
        "sent": acked.value,
        "stored": stored,
        "stored_vs_sent": round(stored / max(1, acked.value), 4),
        "stored_per_s": round(stored / (drained_at - started - 1.0)),
        "max_backlog": max_backlog,
        "drain_s": round(drained_at - published_at, 2),
        **latency_summary(samples),
        "processes": sampler.summary(),
    }


def _batches(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """The run's mean batch and commit time, from the gateways' own metrics."""

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    batches = max(1.0, delta("ciudad_gateway_batch_messages_count"))
    writes = max(1.0, delta("ciudad_store_write_seconds_count"))
    return {
        "mean_batch_messages": round(delta("ciudad_gateway_batch_messages_sum") / batches),
        "mean_commit_s": round(delta("ciudad_store_write_seconds_sum") / writes, 3),
    }


async def main_async(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    runs = []
    with ExitStack() as stack:
        broker = MosquittoBroker(free_port(), work / "broker")
        broker.start()
        stack.callback(broker.stop)
        dsn = await asyncio.to_thread(start_embedded_postgres, work / "pg")
        api_url, api = start_api(stack, dsn, work)
        for workers in args.workers:
            with ExitStack() as gateways:
                pids = start_gateways(gateways, dsn, broker.port, work, workers)
                sampler = ProcessSampler(pids, api, broker, work / "pg")
                ctx = {"broker": broker, "dsn": dsn, "api_url": api_url, "sampler": sampler}
                ctx["probes"] = [d for d in fleet_devices() if d.kind.value == "noise"][:10]
                for rate in args.rates:
                    print(f"workers={workers} rate={rate}/s ...", file=sys.stderr, flush=True)
                    run = await _run_one(ctx, rate, args.seconds)
                    runs.append({"workers": workers, **run})
                    print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    return {"devices": len(fleet_devices()), "apikey": FLEET_APIKEY, "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="2500,5000,10000")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    args.workers = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(main_async(args, Path(tmp)))
    print(json.dumps(report, indent=2))
    if args.markdown:
        print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
