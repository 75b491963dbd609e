"""The updater's extra heap stays in budget, measured on the unix port step by step
(tests/helpers/ota_heap.py, also what bench/firmware_footprint.py prints)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.ota_heap import ota_heap

# Issue 22's 16 KB, held on the 64-bit unix port itself (32-byte GC blocks, 8-byte pointers:
# about twice the ESP32's room for code and small objects) by every step of an update.
BUDGET = 16 * 1024


def test_every_step_of_an_update_fits_the_heap_budget(tmp_path: Path) -> None:
    heap = ota_heap(tmp_path)
    assert heap["bundle_files"] >= 20, heap  # a whole node's firmware, not a toy bundle
    peaks = {name: value for name, value in heap.items() if name.startswith("peak_")}
    assert len(peaks) == 4, heap  # accept the start, load the updater, a chunk, verify+install
    assert all(4096 < value < BUDGET for value in peaks.values()), heap
    # Between chunks the updater holds its code and state; a chunk adds its message.
    assert 4096 < heap["held_between_chunks_bytes"] < heap["peak_chunk_bytes"], heap
