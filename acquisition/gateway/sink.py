"""What the gateway writes to: the knowledge store, behind these protocols."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from acquisition.records import Batch

Staged = TypeVar("Staged")


class BatchWriter(Protocol):
    """Stores a batch in one go (the knowledge store implements it)."""

    async def write_batch(self, batch: Batch) -> None: ...


class BatchSink(BatchWriter, Protocol[Staged]):
    """Where accepted readings and dead letters go (the knowledge store implements it).

    The gateway stages each chunk as it is normalised (``stage_batch``: the sink's own
    Python work, pure, done while the previous batch commits), merges the chunks of one
    commit and writes them (``write_staged``); spooled batches replay by ``write_batch``.
    """

    def stage_batch(self, batch: Batch) -> Staged: ...

    def merge_staged(self, parts: Sequence[Staged], batch: Batch) -> Staged: ...

    async def write_staged(self, staged: Staged) -> None: ...


class UnstagedSink:
    """A ``BatchWriter`` as a sink with nothing to stage: a batch is its own staged form."""

    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer

    def stage_batch(self, batch: Batch) -> Batch:
        return batch

    def merge_staged(self, parts: Sequence[Batch], batch: Batch) -> Batch:
        return batch

    async def write_staged(self, staged: Batch) -> None:
        await self._writer.write_batch(staged)

    async def write_batch(self, batch: Batch) -> None:
        await self._writer.write_batch(batch)
