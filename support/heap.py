"""The garbage collector, tuned for a long-running ingest process.

CPython's cycle collector scans every tracked object of a generation when it runs. A
gateway builds its long-lived objects once (modules, compiled schemas, the device
table, connection pools) and then makes and drops a few readings per message: with the
default thresholds, half of its normalising time went to collections that re-scan the
start-up objects and find nothing (docs/benchmarks.md). Freezing moves what exists into
a permanent generation the collector skips; the larger young generation makes
collections rarer, each still short (a young collection scans only young objects).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # allocations between young collections (CPython's default: 700)


def settle_heap(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Call once the process has built its long-lived objects, before its main loop.

    Frozen objects are still freed by reference counting; only a reference cycle among
    them would outlive its use, which start-up objects do not form in practice (they live
    as long as the process).
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
