"""HTTP API latency: single GET, query and aggregated temporal query under concurrent clients.

`ciudad api` runs as its own process (uvicorn, API keys on) over a private
PostgreSQL holding a fleet of noise sensors with a day of 1-minute data.
Each scenario runs with 1 and with N concurrent clients (httpx, keep-alive)
for a fixed number of requests each and reports p50/p95 latency and
requests/s. The baseline, measured in the same run, is the same read
made directly on the store in-process: what HTTP, authentication, the
NGSI-LD rendering and the JSON-LD layer add.

    .venv/bin/python bench/api_bench.py --markdown
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.knowledge_bench import DAY0, _entity, latency, load_minutes, progress  # noqa: E402
from ciudad.database import open_database, open_store_at  # noqa: E402
from interoperability.entities.q_language import parse_q  # noqa: E402
from interoperability.store.api_keys import ApiKeyStore, Scope  # noqa: E402
from knowledge import PostgresStore, TimeRange, start_embedded_postgres  # noqa: E402
from knowledge.query.filters import EntityQuery  # noqa: E402
from support.net import free_port, wait_for_port  # noqa: E402
from support.times import iso_utc  # noqa: E402

TENANT = "bench"


def scenarios(fleet: int) -> dict[str, Callable[[random.Random], tuple[str, dict[str, str]]]]:
    day = {
        "timerel": "between",
        "timeAt": iso_utc(DAY0),
        "endTimeAt": iso_utc(DAY0 + timedelta(days=1)),
    }
    return {
        "single GET": lambda rng: (f"/ngsi-ld/v1/entities/{_entity(rng.randrange(fleet))}", {}),
        "query (type + q, 100 entities)": lambda rng: (
            "/ngsi-ld/v1/entities",
            {"type": "NoiseLevelObserved", "q": f"LAeq>{rng.randrange(40, 60)}", "limit": "100"},
        ),
        "aggregated temporal (1 day -> hourly avg,max)": lambda rng: (
            f"/ngsi-ld/v1/temporal/entities/{_entity(rng.randrange(fleet))}",
            {
                "options": "aggregatedValues",
                "aggrMethods": "avg,max",
                "aggrPeriodDuration": "PT1H",
                **day,
            },
        ),
    }


async def direct(store: PostgresStore, fleet: int, runs: int) -> dict[str, dict[str, float]]:
    """The same reads on the store, in-process (the baseline)."""
    rng = random.Random(1)  # noqa: S311 - picks entities, not secrets
    query = EntityQuery(types=("NoiseLevelObserved",), q=parse_q("LAeq>50"))
    window = TimeRange(DAY0, DAY0 + timedelta(days=1))
    reads: dict[str, Callable[[], Awaitable[object]]] = {
        "single GET": lambda: store.get_entity(TENANT, _entity(rng.randrange(fleet))),
        "query (type + q, 100 entities)": lambda: store.list_entities(TENANT, None, 100, 0, query),
        "aggregated temporal (1 day -> hourly avg,max)": lambda: store.aggregate(
            TENANT, "LAeq", 3600, window, None, [_entity(rng.randrange(fleet))]
        ),
    }
    return {name: await latency(read, runs) for name, read in reads.items()}


async def over_http(
    port: int, key: str, fleet: int, clients: int, per_client: int
) -> dict[str, dict[str, float]]:
    out = {}
    for name, make in scenarios(fleet).items():
        samples: list[float] = []

        async def client(seed: int, make: Any = make, samples: list[float] = samples) -> None:
            rng = random.Random(seed)  # noqa: S311 - picks entities, not secrets
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            ) as http:
                for i in range(per_client + 1):
                    path, params = make(rng)
                    started = time.perf_counter()
                    answer = await http.get(path, params=params)
                    if i:  # the first request of a client warms its connection up
                        samples.append((time.perf_counter() - started) * 1000)
                    answer.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(client(seed) for seed in range(clients)))
        elapsed = time.perf_counter() - started
        samples.sort()
        out[name] = {
            "p50_ms": round(samples[len(samples) // 2], 2),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
            "requests_per_s": round(len(samples) / elapsed, 1),
            "requests": len(samples),
        }
        progress(f"api: {name}, {clients} client(s): p95 {out[name]['p95_ms']} ms")
    return out


def start_api(dsn: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        CIUDAD_DATABASE_URL=dsn,
        CIUDAD_API_PORT=str(port),
        CIUDAD_API_AUTH="keys",
        CIUDAD_LOG_LEVEL="WARNING",
    )
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "ciudad", "api"], env=env, stdout=out, stderr=out
        )
    if not wait_for_port(port, timeout_s=60):
        server.kill()
        raise SystemExit(f"the API did not start; see {log}")
    return server


async def run(dsn: str, workdir: Path, fleet: int, clients: int, per_client: int) -> dict[str, Any]:
    store = await open_store_at(dsn)
    try:
        readings = await load_minutes(store, range(fleet), 1)
        baseline = await direct(store, fleet, per_client)
    finally:
        await store.close()
    port = free_port()
    server = start_api(dsn, port, workdir / "api.log")
    try:
        db = await open_database(dsn, max_size=1)
        try:
            key, _ = await ApiKeyStore(db).create(TENANT, Scope.READ, "bench")
        finally:
            await db.close()
        one = await over_http(port, key, fleet, 1, per_client)
        many = await over_http(port, key, fleet, clients, per_client)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "fleet": fleet,
        "readings": readings,
        "clients": clients,
        "requests_per_client": per_client,
        "store_in_process": baseline,
        "http_1_client": one,
        f"http_{clients}_clients": many,
    }


def markdown(report: dict[str, Any]) -> str:
    clients = report["clients"]
    many = report[f"http_{clients}_clients"]
    lines = [
        f"| request | store in-process p50 / p95 ms | HTTP, 1 client p50 / p95 ms | "
        f"HTTP, {clients} clients p50 / p95 ms | req/s ({clients} clients) |",
        "|---|---|---|---|---|",
    ]
    for name, base in report["store_in_process"].items():
        one = report["http_1_client"][name]
        lines.append(
            f"| {name} | {base['p50_ms']} / {base['p95_ms']} | {one['p50_ms']} / "
            f"{one['p95_ms']} | {many[name]['p50_ms']} / {many[name]['p95_ms']} | "
            f"{many[name]['requests_per_s']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", type=int, default=200, help="noise sensors (1 day of 1-min)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=100, help="per client and scenario")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ciudad-api-bench-") as directory:
        workdir = Path(directory)
        dsn = start_embedded_postgres(workdir / "pg")
        report = asyncio.run(run(dsn, workdir, args.fleet, args.clients, args.requests))
    print(json.dumps(report, indent=2))
    if args.markdown:
        print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
