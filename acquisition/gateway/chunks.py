"""The gateway's work in progress: normalised chunks waiting for their commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic

from acquisition.gateway.sink import Staged
from acquisition.inputs.inbound import InboundMessage
from acquisition.records import Batch
from support.runs import runs_of_at_most

# Normalised and staged at a time, between turns of the commit in progress: about 60
# single readings or 3 backlog arrays of 50 measures, half a millisecond of Python. The
# commit waits on PostgreSQL at each turn: a long chunk would leave it idle.
PREPARE_CHUNK_BYTES = 8 * 1024
# A commit's payload bytes: about 5,000 single readings, or 150 backlog arrays of 50
# measures (7,500 measures), so that commits keep coming and overlap the normalising.
BATCH_MAX_BYTES = 1 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Prepared(Generic[Staged]):
    """A batch ready to store, staged, with the messages it came from (to acknowledge
    after)."""

    messages: list[InboundMessage]
    batch: Batch
    staged: Staged


class Ahead(Generic[Staged]):
    """Prepared chunks waiting for the committer: at most ``limit`` messages and
    ``byte_limit`` bytes of payload of them (backlog arrays make a byte a better measure
    of a commit's work than a message)."""

    def __init__(self, limit: int, byte_limit: int = BATCH_MAX_BYTES) -> None:
        self._limit = limit
        self._byte_limit = byte_limit
        self._chunks: list[Prepared[Staged]] = []
        self._count = 0
        self._bytes = 0
        self._changed = asyncio.Event()

    async def room(self) -> int:
        """Waits until there is room; returns how many messages fit."""
        while self._count >= self._limit or self._bytes >= self._byte_limit:
            self._changed.clear()
            await self._changed.wait()
        return self._limit - self._count

    async def put(self, chunk: Prepared[Staged]) -> None:
        self._chunks.append(chunk)
        self._count += len(chunk.messages)
        self._bytes += sum(len(m.payload) for m in chunk.messages)
        self._changed.set()

    async def take(self) -> list[Prepared[Staged]]:
        """Every chunk prepared so far, in order (waits for the first)."""
        while not self._chunks:
            self._changed.clear()
            await self._changed.wait()
        chunks, self._chunks, self._count, self._bytes = self._chunks, [], 0, 0
        self._changed.set()
        return chunks


def by_size(messages: list[InboundMessage], max_bytes: int) -> list[list[InboundMessage]]:
    """``messages`` in order, cut into runs of at most ``max_bytes`` of payload (a larger
    message is a run of its own)."""
    return runs_of_at_most(messages, lambda m: len(m.payload), max_bytes)


def merged_batches(batches: Sequence[Batch]) -> Batch:
    entities = {(e.tenant, e.entity_id): e for b in batches for e in b.entities}
    return Batch(
        tuple(r for b in batches for r in b.readings),
        tuple(entities.values()),
        tuple(d for b in batches for d in b.dead_letters),
    )
