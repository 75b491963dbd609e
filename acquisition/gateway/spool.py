"""Store-and-forward: a bounded, fsync'd on-disk queue of batches the store could not take.

One file per batch (``<sequence>.batch``, JSON), written to a temporary name,
fsync'd, renamed and the directory fsync'd, so a crash leaves either the whole
batch or nothing. Batches replay oldest first; a batch leaves the spool only
after the store has committed it, and replays are harmless because the store
is idempotent. When the spool is full, ``append`` refuses and the gateway
stops acknowledging MQTT messages: the broker keeps them (backpressure).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from acquisition.records import Batch, DeadLetter, EntityRecord, Reading, ValueType
from support import CiudadError


class SpoolFullError(CiudadError):
    """The spool has no room for another batch."""


def batch_to_json(batch: Batch) -> bytes:
    body = {
        "readings": [
            [
                r.tenant,
                r.entity_id,
                r.entity_type,
                r.attr,
                r.observed_at.isoformat(),
                r.value,
                r.value_type.value,
                r.unit_code,
            ]
            for r in batch.readings
        ],
        "entities": [
            [e.tenant, e.entity_id, e.entity_type, dict(e.static)] for e in batch.entities
        ],
        "dead_letters": [
            [
                d.received_at.isoformat(),
                d.topic,
                d.payload,
                d.reason,
                d.detail,
                d.tenant,
                d.device_id,
            ]
            for d in batch.dead_letters
        ],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def batch_from_json(data: bytes) -> Batch:
    body: dict[str, Any] = json.loads(data)
    readings = tuple(
        Reading(t, e, et, a, datetime.fromisoformat(o), v, ValueType(vt), u)
        for t, e, et, a, o, v, vt, u in body["readings"]
    )
    entities = tuple(EntityRecord(*row) for row in body["entities"])
    letters = tuple(
        DeadLetter(datetime.fromisoformat(row[0]), *row[1:]) for row in body["dead_letters"]
    )
    return Batch(readings, entities, letters)


class Spool:
    """Batches waiting for the store, oldest first, at most ``max_bytes`` on disk."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self._dir = directory
        self._max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.tmp"):  # a crash mid-write: never acknowledged
            stale.unlink()
        self._files = sorted(directory.glob("*.batch"))
        self._bytes = sum(f.stat().st_size for f in self._files)
        self._next = int(self._files[-1].stem) + 1 if self._files else 0

    def __len__(self) -> int:
        return len(self._files)

    @property
    def bytes(self) -> int:
        return self._bytes

    def append(self, batch: Batch) -> None:
        data = batch_to_json(batch)
        if self._bytes + len(data) > self._max_bytes:
            raise SpoolFullError(f"spool full ({self._bytes} of {self._max_bytes} bytes)")
        final = self._dir / f"{self._next:020d}.batch"
        tmp = final.with_suffix(".tmp")
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.rename(final)
        self._fsync_dir()
        self._files.append(final)
        self._bytes += len(data)
        self._next += 1

    def oldest(self) -> Batch | None:
        return batch_from_json(self._files[0].read_bytes()) if self._files else None

    def pop(self) -> None:
        """Removes the oldest batch (after the store committed it)."""
        oldest = self._files.pop(0)
        self._bytes -= oldest.stat().st_size
        oldest.unlink()
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
