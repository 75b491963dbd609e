"""The OTA updater's extra heap on the MicroPython unix port, step by step.

firmware/tests/ota_heap.py runs each step of an update of a real bundle (accepting the start
with its signature check, one chunk, the last chunk with verify and install) with the heap
filled by ballast but for what the step needs; the least free heap a step still succeeds in,
plus what the updater held before it and the message it received, is the step's peak.
Used by bench/firmware_footprint.py and by the budget test (tests/firmware/test_ota_heap.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.helpers.firmware import FIRMWARE, micropython
from tests.helpers.ota_bundles import build_bundle, mpy_cross, public_hex

_PROBE_HEAP = 512 * 1024


def _probe(work: Path, mode: str, ballast: int) -> dict[str, int] | None:
    """One step of ota_heap.py on a copy of its prepared OTA folder: its printed numbers
    ("heap", "held", "payload", "free"), or None if it ran out of heap."""
    shutil.rmtree(work / "ota", ignore_errors=True)
    prepared = work / f"prepared-{mode}"
    if prepared.exists():
        shutil.copytree(prepared, work / "ota")
    code = f"import sys;sys.path.insert(0,{str(work / 'mpy')!r});import ota_heap;"
    code += f"ota_heap.main({mode!r},{str(work)!r},{ballast})"
    result = subprocess.run(
        [micropython(), "-X", f"heapsize={_PROBE_HEAP}", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        return None
    return {k: int(v) for k, v in re.findall(r"^(\w+) (-?\d+)$", result.stdout, re.MULTILINE)}


def _step_peak(work: Path, mode: str) -> int:
    """Bytes a step needs at its peak beyond the node without an update: the updater held
    before it, the received message, and the least free heap the step still succeeds in."""
    low, high = 0, _PROBE_HEAP // 256  # ballast blocks: succeeds, fails
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _probe(work, mode, middle) else (low, middle)
    found = _probe(work, mode, low)
    assert found is not None, f"ota_heap.py {mode} fails without ballast"
    before = found.get("held", 0) if mode in ("chunk", "finish") else found.get("residue", 0)
    return before + found["payload"] + found["free"]


def ota_heap(work: Path) -> dict[str, int]:
    """Peak extra heap of each update step, and what the updater holds between chunks."""
    # Everything the probe imports, compiled like the node's modules (no compiler heap).
    (work / "mpy").mkdir(parents=True)
    sources = [*FIRMWARE.glob("*.py"), *(FIRMWARE / "tests").glob("ota*.py")]
    for source in sources:
        target = work / "mpy" / (source.stem + ".mpy")
        subprocess.run([mpy_cross(), "-march=host", "-o", str(target), str(source)], check=True)
    key = Ed25519PrivateKey.generate()
    bundle = build_bundle(key, node="noise", version="9.9.9", native_arch="host")
    (work / "files").mkdir(parents=True)
    for name, data in bundle.files:
        (work / "files" / name).write_bytes(data)
    job = {"kind": "noise", "pubkey": public_hex(key), "start": bundle.start("u1")}
    files = [[name, len(data)] for name, data in bundle.files]
    (work / "job.json").write_text(json.dumps({**job, "chunk": bundle.chunk, "files": files}))
    for step in ("chunk", "finish"):
        _probe(work, f"prepare-{step}", 0)
        shutil.copytree(work / "ota", work / f"prepared-{step}")
    held = _probe(work, "chunk", 0)
    assert held is not None
    return {
        "bundle_files": len(bundle.files),
        "bundle_bytes": sum(len(d) for _, d in bundle.files),
        "held_between_chunks_bytes": held["held"],
        "peak_accept_and_signature_bytes": _step_peak(work, "start"),
        "peak_load_updater_bytes": _step_peak(work, "load"),
        "peak_chunk_bytes": _step_peak(work, "chunk"),
        "peak_verify_and_install_bytes": _step_peak(work, "finish"),
    }
