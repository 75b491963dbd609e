"""The gateway loop: MQTT messages -> pipeline -> batches -> the knowledge store.

Every batch is written before its messages are acknowledged; while the store
is unavailable the gateway retries with jittered exponential backoff and holds
the acknowledgements, so the broker keeps (and later redelivers) what we have
not stored.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol

from acquisition.gateway.chunks import (
    PREPARE_CHUNK_BYTES,
    Ahead,
    Prepared,
    by_size,
    merged_batches,
)
from acquisition.gateway.rate_limit import RATE_LIMITED, DeviceRateLimiter
from acquisition.gateway.sink import BatchSink, Staged
from acquisition.gateway.spool import Spool, SpoolFullError
from acquisition.inputs.mqtt import InboundMessage
from acquisition.normalise.columnar import normalise_columns
from acquisition.normalise.pipeline import MeasurePipeline
from acquisition.records import Batch, DeadLetter, EntityRecord, Reading
from acquisition.store.commands import CommandResult
from support import StoreUnavailableError
from support.metrics import PlatformMetrics

log = logging.getLogger(__name__)
PREPARE_CHUNK_MESSAGES = 500


class MessageSource(Protocol):
    async def next_batch(self, max_messages: int, max_wait_s: float) -> list[InboundMessage]: ...

    def ack(self, messages: Sequence[InboundMessage]) -> None: ...


@dataclass(slots=True)
class GatewayStats:
    """Counters the gateway keeps; logged periodically and exposed for health checks."""

    messages: int = 0
    statuses: int = 0  # of which device status (online/offline) messages
    readings: int = 0
    batches: int = 0
    write_retries: int = 0
    spooled: int = 0
    replayed: int = 0
    spool_full: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)

    @property
    def measure_messages(self) -> int:
        return self.messages - self.statuses

    def snapshot(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "statuses": self.statuses,
            "readings": self.readings,
            "batches": self.batches,
            "write_retries": self.write_retries,
            "spooled": self.spooled,
            "replayed": self.replayed,
            "spool_full": self.spool_full,
            "dead_letters": dict(self.dead_letters),
        }


def assemble_batch(
    pipeline: MeasurePipeline, messages: Sequence[InboundMessage]
) -> tuple[Batch, list[CommandResult]]:
    """The columnar fast path first, the per-message pipeline for the rest; one record per
    entity."""
    fast = normalise_columns(pipeline, messages)
    readings: list[Reading] = list(fast.readings)
    dead: list[DeadLetter] = []
    results: list[CommandResult] = []
    entities: dict[tuple[str, str], EntityRecord] = {
        (e.tenant, e.entity_id): e for e in fast.entities.values()
    }
    for message in fast.leftovers:
        outcome = pipeline.process(message.topic, message.payload, message.received_at)
        readings.extend(outcome.readings)
        dead.extend(outcome.dead_letters)
        results.extend(outcome.command_results)
        for entity in outcome.entities:
            entities[(entity.tenant, entity.entity_id)] = entity
    return Batch(tuple(readings), tuple(entities.values()), tuple(dead)), results


class ResultRecorder(Protocol):
    """Completes commands from their results (the command dispatcher implements it)."""

    async def record_results(self, results: Sequence[CommandResult]) -> list[Reading]: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Jittered exponential backoff: base * 2^attempt, capped, times a random 0.5..1."""

    base_s: float = 0.2
    cap_s: float = 15.0

    def delay(self, attempt: int) -> float:
        return min(self.cap_s, self.base_s * 2.0**attempt) * random.uniform(0.5, 1.0)  # noqa: S311


class Gateway(Generic[Staged]):
    """Receives, validates and stores batches; acknowledges only what is safe.

    A batch is safe once the store committed it or the spool fsync'd it. While
    the store is down, batches go to the spool (if there is one) and replay
    oldest first when it returns; when the spool is full, nothing is
    acknowledged and the broker holds the messages.
    """

    def __init__(
        self,
        source: MessageSource,
        pipeline: MeasurePipeline,
        sink: BatchSink[Staged],
        max_messages: int = 1000,
        max_wait_s: float = 0.2,
        backoff: Backoff | None = None,
        spool: Spool | None = None,
        drain_every_s: float = 1.0,
        commands: ResultRecorder | None = None,
        metrics: PlatformMetrics | None = None,
        rate_limit: DeviceRateLimiter | None = None,
    ) -> None:
        self._source = source
        self._pipeline = pipeline
        self._sink = sink
        self._max_messages = max_messages
        self._max_wait_s = max_wait_s
        self._backoff = backoff or Backoff()
        self._spool = spool
        self._drain_every_s = drain_every_s
        self._commands = commands
        self._lock = asyncio.Lock()  # one writer at a time: keeps replay order
        self._failures = 0
        self._store_retry_at = 0.0
        self._spool_full = False
        self.stats = GatewayStats()
        self.metrics = metrics
        self._rate_limit = rate_limit

    async def run(self) -> None:
        """Receives and normalises messages while the previous batch commits.

        What arrives during a commit is prepared in chunks and committed together next,
        up to ``max_messages``: under load batches grow and commits get fewer (much of a
        commit's cost is per distinct device, not per message), and when quiet a batch
        leaves after ``max_wait_s``. The broker's Receive Maximum must cover about two
        batches for the stages to overlap (the defaults do).
        """
        ahead: Ahead[Staged] = Ahead(self._max_messages)
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._drain_forever(), name="spool-drain")
            tasks.create_task(self._prepare_forever(ahead), name="gateway-prepare")
            while True:
                await self._commit(self._merged(await ahead.take()))

    async def step(self) -> Batch:
        """Receives one batch of messages, makes it safe, then acknowledges it."""
        prepared = await self._prepare(self._max_messages)
        await self._commit(prepared)
        return prepared.batch

    def _merged(self, chunks: list[Prepared[Staged]]) -> Prepared[Staged]:
        if len(chunks) == 1:
            return chunks[0]
        batch = merged_batches([c.batch for c in chunks])
        return Prepared(
            [m for c in chunks for m in c.messages],
            batch,
            self._sink.merge_staged([c.staged for c in chunks], batch),
        )

    async def _prepare_forever(self, ahead: Ahead[Staged]) -> None:
        # In chunks of 8 KB of payload, each normalised and staged for the store: a chunk
        # holds the event loop for about half a millisecond, so the commit in progress
        # gets its turns between them (with larger chunks PostgreSQL waits on us; at
        # 64 KB the 50-measure drain was a fifth slower, docs/benchmarks.md).
        while True:
            room = await ahead.room()
            limit = min(room, PREPARE_CHUNK_MESSAGES)
            messages = await self._source.next_batch(limit, self._max_wait_s)
            for chunk in by_size(messages, PREPARE_CHUNK_BYTES):
                await ahead.put(await self._prepare_messages(chunk))
                await asyncio.sleep(0)  # the commit in progress gets its turn

    async def _prepare(self, max_messages: int) -> Prepared[Staged]:
        messages = await self._source.next_batch(max_messages, self._max_wait_s)
        return await self._prepare_messages(messages)

    async def _prepare_messages(self, messages: list[InboundMessage]) -> Prepared[Staged]:
        admitted, limited = self._limit(messages)
        batch, results = assemble_batch(self._pipeline, admitted)
        if limited:
            batch = Batch(batch.readings, batch.entities, batch.dead_letters + limited)
        if results and self._commands is not None:
            status = await self._commands.record_results(results)
            batch = Batch(batch.readings + tuple(status), batch.entities, batch.dead_letters)
        return Prepared(messages, batch, self._sink.stage_batch(batch))

    async def _commit(self, prepared: Prepared[Staged]) -> None:
        await self._store_or_spool(prepared)
        self._source.ack(prepared.messages)
        self._count(prepared.messages, prepared.batch)

    def _limit(
        self, messages: Sequence[InboundMessage]
    ) -> tuple[Sequence[InboundMessage], tuple[DeadLetter, ...]]:
        """Messages within their device's rate limit, and the others as dead letters."""
        if self._rate_limit is None:
            return messages, ()
        admitted, over = self._rate_limit.split(messages, time.monotonic())
        if not over:
            return admitted, ()
        # One line per batch: a flood must not flood the log as well.
        log.warning("rate limited", extra={"messages": len(over), "first_topic": over[0].topic})
        return admitted, self._rate_limit.dead_letters(over, self._pipeline.provisioning)

    async def _store_or_spool(self, prepared: Prepared[Staged]) -> None:
        while True:
            async with self._lock:
                if await self._drain() and await self._try_store(prepared.batch, prepared.staged):
                    return
                if self._spool is not None:
                    try:
                        self._spool.append(prepared.batch)
                        self.stats.spooled += 1
                        self._spool_full = False
                        return
                    except SpoolFullError:
                        self.stats.spool_full += 1
                        self._spool_full = True
            # Store down and nowhere to put the batch: hold the acks (backpressure).
            await asyncio.sleep(self._backoff.delay(min(self._failures, 10)))

    def _store_resting(self) -> bool:
        return asyncio.get_running_loop().time() < self._store_retry_at

    async def _try_store(self, batch: Batch, staged: Staged | None = None) -> bool:
        """One write attempt of ``batch`` (as ``staged`` if given), skipped while the store
        is known down; True if committed."""
        if self._store_resting():
            return False
        started = time.perf_counter()
        try:
            if staged is None:
                await self._sink.write_batch(batch)
            else:
                await self._sink.write_staged(staged)
        except StoreUnavailableError as exc:
            if self.metrics is not None:
                self.metrics.write_failures.inc()
            delay = self._backoff.delay(self._failures)
            self._failures += 1
            self.stats.write_retries += 1
            self._store_retry_at = asyncio.get_running_loop().time() + delay
            log.warning(
                "store unavailable", extra={"error": str(exc), "retry_in_s": round(delay, 2)}
            )
            return False
        if self.metrics is not None:
            self.metrics.write_seconds.observe(time.perf_counter() - started)
            self.metrics.observe_lag(datetime.now(UTC), (r.observed_at for r in batch.readings))
        if self._failures:
            log.info("store is back", extra={"after_failures": self._failures})
        self._failures = 0
        return True

    async def _drain(self) -> bool:
        """Replays spooled batches oldest first; True once the spool is empty."""
        spool = self._spool
        while spool is not None and len(spool):
            oldest = spool.oldest()
            if oldest is None or not await self._try_store(oldest):
                return False
            spool.pop()
            self.stats.replayed += 1
        return True

    async def _drain_forever(self) -> None:
        while True:
            await asyncio.sleep(self._drain_every_s)
            if self._spool is not None and len(self._spool):
                async with self._lock:
                    await self._drain()

    def _count(self, messages: Sequence[InboundMessage], batch: Batch) -> None:
        self.stats.messages += len(messages)
        self.stats.statuses += sum(1 for m in messages if m.topic.endswith("/status"))
        self.stats.readings += len(batch.readings)
        self.stats.batches += 1
        if self.metrics is not None:
            self._export(messages, batch, self.metrics)
        for letter in batch.dead_letters:
            self.stats.dead_letters[letter.reason] += 1
            if letter.reason == RATE_LIMITED:
                continue  # logged once per batch by _limit
            log.warning(
                "dead-lettered",
                extra={"reason": letter.reason, "topic": letter.topic, "detail": letter.detail},
            )

    @staticmethod
    def _export(messages: Sequence[InboundMessage], batch: Batch, metrics: PlatformMetrics) -> None:
        metrics.messages.inc(len(messages))
        metrics.batch_messages.observe(len(messages))
        for tenant, count in Counter(r.tenant for r in batch.readings).items():
            metrics.readings.labels(tenant).inc(count)
        for reason, count in Counter(d.reason for d in batch.dead_letters).items():
            metrics.dead_letters.labels(reason).inc(count)

    def refresh_gauges(self, connected: bool) -> None:
        """Point-in-time gauges, set when metrics are scraped."""
        if self.metrics is None:
            return
        self.metrics.mqtt_connected.set(1 if connected else 0)
        self.metrics.spool_batches.set(len(self._spool) if self._spool is not None else 0)
        self.metrics.spool_bytes.set(self._spool.bytes if self._spool is not None else 0)

    def spool_full(self) -> bool:
        """True while the last attempt to spool found no room."""
        return self._spool_full

    async def report_forever(self, every_s: float = 10.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            log.info("gateway stats", extra=self.stats.snapshot())
