"""The updater's extra heap stays in budget, measured on the unix port step by step
(tests/helpers/ota_heap.py, also what bench/firmware_footprint.py prints)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.ota_heap import ota_heap

# 16 KB on an ESP32. The unix port's objects are 64-bit (32-byte GC blocks, 8-byte pointers:
# about twice the ESP32's for code and small objects; message bytes do not shrink), so its
# budget here is 24 KB: a regression of a few KB anywhere in the updater fails this test.
UNIX_PORT_BUDGET = 24 * 1024


def test_every_step_of_an_update_fits_the_heap_budget(tmp_path: Path) -> None:
    heap = ota_heap(tmp_path)
    assert heap["bundle_files"] >= 20, heap  # a whole node's firmware, not a toy bundle
    peaks = {name: value for name, value in heap.items() if name.startswith("peak_")}
    assert len(peaks) == 3
    assert all(4096 < value < UNIX_PORT_BUDGET for value in peaks.values()), heap
    # Between chunks the updater holds its code and state; a chunk adds its message.
    assert 4096 < heap["held_between_chunks_bytes"] < heap["peak_chunk_bytes"], heap
