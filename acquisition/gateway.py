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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from acquisition.mqtt_source import InboundMessage
from acquisition.pipeline import MeasurePipeline
from acquisition.records import Batch, DeadLetter, EntityRecord, Reading
from support import StoreUnavailableError

log = logging.getLogger(__name__)


class BatchSink(Protocol):
    """Where accepted readings and dead letters go (the knowledge store implements it)."""

    async def write_batch(self, batch: Batch) -> None: ...


class MessageSource(Protocol):
    async def next_batch(self, max_messages: int, max_wait_s: float) -> list[InboundMessage]: ...

    def ack(self, messages: Sequence[InboundMessage]) -> None: ...


@dataclass(slots=True)
class GatewayStats:
    """Counters the gateway keeps; logged periodically and exposed for health checks."""

    messages: int = 0
    readings: int = 0
    batches: int = 0
    write_retries: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "readings": self.readings,
            "batches": self.batches,
            "write_retries": self.write_retries,
            "dead_letters": dict(self.dead_letters),
        }


def assemble_batch(pipeline: MeasurePipeline, messages: Sequence[InboundMessage]) -> Batch:
    """Runs every message through the pipeline; one entity record per entity."""
    readings: list[Reading] = []
    dead: list[DeadLetter] = []
    entities: dict[tuple[str, str], EntityRecord] = {}
    for message in messages:
        outcome = pipeline.process(message.topic, message.payload, message.received_at)
        readings.extend(outcome.readings)
        dead.extend(outcome.dead_letters)
        if outcome.entity is not None:
            entities[(outcome.entity.tenant, outcome.entity.entity_id)] = outcome.entity
    return Batch(tuple(readings), tuple(entities.values()), tuple(dead))


@dataclass(frozen=True, slots=True)
class Backoff:
    """Jittered exponential backoff: base * 2^attempt, capped, times a random 0.5..1."""

    base_s: float = 0.2
    cap_s: float = 15.0

    def delay(self, attempt: int) -> float:
        return min(self.cap_s, self.base_s * 2.0**attempt) * random.uniform(0.5, 1.0)  # noqa: S311


class Gateway:
    def __init__(
        self,
        source: MessageSource,
        pipeline: MeasurePipeline,
        sink: BatchSink,
        max_messages: int = 1000,
        max_wait_s: float = 0.2,
        backoff: Backoff | None = None,
    ) -> None:
        self._source = source
        self._pipeline = pipeline
        self._sink = sink
        self._max_messages = max_messages
        self._max_wait_s = max_wait_s
        self._backoff = backoff or Backoff()
        self.stats = GatewayStats()

    async def run(self) -> None:
        while True:
            await self.step()

    async def step(self) -> Batch:
        """Receives one batch of messages, stores it, then acknowledges it."""
        messages = await self._source.next_batch(self._max_messages, self._max_wait_s)
        batch = assemble_batch(self._pipeline, messages)
        await self._write(batch)
        self._source.ack(messages)
        self._count(messages, batch)
        return batch

    async def _write(self, batch: Batch) -> None:
        attempt = 0
        while True:
            try:
                await self._sink.write_batch(batch)
                return
            except StoreUnavailableError as exc:
                delay = self._backoff.delay(attempt)
                self.stats.write_retries += 1
                log.warning(
                    "store unavailable; retrying",
                    extra={"error": str(exc), "retry_in_s": round(delay, 2)},
                )
                attempt += 1
                await asyncio.sleep(delay)

    def _count(self, messages: Sequence[InboundMessage], batch: Batch) -> None:
        self.stats.messages += len(messages)
        self.stats.readings += len(batch.readings)
        self.stats.batches += 1
        for letter in batch.dead_letters:
            self.stats.dead_letters[letter.reason] += 1
            log.warning(
                "dead-lettered",
                extra={"reason": letter.reason, "topic": letter.topic, "detail": letter.detail},
            )

    async def report_forever(self, every_s: float = 10.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            log.info("gateway stats", extra=self.stats.snapshot())
