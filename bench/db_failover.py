"""Database failover under load: the primary of a Patroni cluster killed while a real
`ciudad gateway` stores a steady stream of QoS 1 readings.

Starts its own mosquitto and Patroni cluster (three etcd, two PostgreSQL 15 nodes,
synchronous replication) on free loopback ports, runs the scenario of
tests/helpers/failover.py ``--runs`` times (a fresh cluster each) and prints one JSON
document: failover time (kill until the read-write URL commits on the new primary),
the gateway's spool peak, and what the new primary holds. With --markdown also a table
for docs/scaling.md.

    .venv/bin/python bench/db_failover.py --runs 3 --markdown
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from support.mosquitto import MosquittoBroker  # noqa: E402
from support.net import free_port  # noqa: E402
from support.store.patroni import PatroniCluster  # noqa: E402
from tests.helpers.failover import FailoverFigures, FailoverRun, run_failover  # noqa: E402


def one_run(work: Path, run: FailoverRun) -> FailoverFigures:
    broker = MosquittoBroker(free_port(), work / "mosquitto")
    broker.start()
    cluster = PatroniCluster(work / "patroni")
    try:
        cluster.start()
        return run_failover(cluster, broker.port, work, run)
    finally:
        cluster.stop()
        broker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0, help="readings a second")
    parser.add_argument("--seconds", type=float, default=25.0, help="of load per run")
    parser.add_argument("--kill-after", type=float, default=5.0, help="seconds of load first")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    run = FailoverRun(args.rate, args.seconds, args.kill_after)
    runs = []
    for n in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="ciudad-failover-") as tmp:
            figures = one_run(Path(tmp), run)
        print(f"run {n + 1}: {figures.as_json()}", file=sys.stderr, flush=True)
        runs.append(asdict(figures))
    failovers = [r["failover_s"] for r in runs]
    report: dict[str, Any] = {
        "load": asdict(run),
        "runs": runs,
        "failover_s_median": statistics.median(failovers),
        "failover_s_max": max(failovers),
        "spool_peak_batches_max": max(r["spool_peak_batches"] for r in runs),
        "spool_peak_bytes_max": max(r["spool_peak_bytes"] for r in runs),
        "stored_vs_published": [r["stored_distinct"] / r["published"] for r in runs],
        "doubles": [r["stored"] - r["stored_distinct"] for r in runs],
    }
    print(json.dumps(report, indent=2))
    if args.markdown:
        print(
            "\n| run | published | stored (distinct) | failover (s) | spool peak "
            "| spool emptied (s after kill) |"
        )
        print("|---|---|---|---|---|---|")
        for n, r in enumerate(runs, 1):
            print(
                f"| {n} | {r['published']} | {r['stored']} ({r['stored_distinct']}) | "
                f"{r['failover_s']} | {r['spool_peak_batches']} batches, "
                f"{r['spool_peak_bytes'] / 1e6:.2f} MB | {r['spool_emptied_s']} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
