"""Normalisation alone, in process: the columnar fast path against the per-message pipeline.

The per-message path (the naive baseline) and the columnar path process the same
simulated single-measure messages, after one warm-up batch that does each entity's
full schema validation. Prints JSON.

    .venv/bin/python bench/pipeline_paths.py --messages 20000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acquisition import (  # noqa: E402
    ENTITY_TYPES,
    EntityValidator,
    InboundMessage,
    MeasurePipeline,
    TimePolicy,
    assemble_batch,
    parse_provisioning,
    provisioning_document,
)
from bench.gateway_throughput import FLEET, backlog  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args()
    provisioning = parse_provisioning(provisioning_document(FLEET, "bench", 1))
    validator = EntityValidator({n: t.schema_file for n, t in ENTITY_TYPES.items()})
    pipeline = MeasurePipeline(
        provisioning, validator, TimePolicy(timedelta(minutes=5), timedelta(days=30))
    )
    now = datetime.now(UTC)
    inbound = [
        InboundMessage(t, p, i, 1, now) for i, (t, p) in enumerate(backlog(args.messages + 1000, 1))
    ]
    assemble_batch(pipeline, inbound[:1000])
    paths: dict[str, Callable[[list[InboundMessage]], object]] = {
        "per_message_baseline": lambda b: [
            pipeline.process(m.topic, m.payload, m.received_at) for m in b
        ],
        "columnar": lambda b: assemble_batch(pipeline, b),
    }
    report: dict[str, float] = {}
    for name, run in paths.items():
        started = time.perf_counter()
        for k in range(1000, len(inbound), 1000):
            run(inbound[k : k + 1000])
        report[f"{name}_messages_per_s"] = round(args.messages / (time.perf_counter() - started))
    report["speedup"] = round(
        report["columnar_messages_per_s"] / report["per_message_baseline_messages_per_s"], 2
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
