"""The gateway's side of the commands downlink: publish queued commands, record results."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from acquisition.gateway.loop import BatchSink
from acquisition.normalise.pipeline import MeasurePipeline
from acquisition.records import Batch, EntityRecord, Reading
from acquisition.store.commands import (
    CHANNEL,
    CommandQueue,
    CommandResult,
    CommandStatus,
    status_readings,
)
from acquisition.store.listen import on_notify
from capture import command_topic
from support import PayloadError
from support.store import Database

log = logging.getLogger(__name__)


class CommandPublisher(Protocol):
    def publish(self, topic: str, payload: bytes, qos: int) -> None: ...


class CommandDispatcher:
    def __init__(
        self,
        queue: CommandQueue,
        publisher: CommandPublisher,
        sink: BatchSink,
        pipeline: MeasurePipeline,
    ) -> None:
        self._queue = queue
        self._publisher = publisher
        self._sink = sink
        self._pipeline = pipeline
        self.sent = 0
        self.expired = 0

    async def dispatch_once(self) -> None:
        """Publishes every pending command and expires the overdue ones."""
        now = datetime.now(UTC)
        updates: list[tuple[str, str, str, CommandStatus, str | None]] = []
        for command in await self._queue.take_pending():
            topic = command_topic(command.apikey, command.device_id)
            self._publisher.publish(topic, command.payload(), 1)
            self.sent += 1
            updates.append(
                (command.apikey, command.device_id, command.name, CommandStatus.SENT, None)
            )
        for command in await self._queue.expire():
            self.expired += 1
            log.warning(
                "command expired",
                extra={"id": command.id, "device": command.device_id, "command": command.name},
            )
            updates.append(
                (
                    command.apikey,
                    command.device_id,
                    command.name,
                    CommandStatus.EXPIRED,
                    "no result in time",
                )
            )
        batch = self._status_batch(updates, now)
        if batch.readings:
            await self._sink.write_batch(batch)

    def _status_batch(
        self, updates: list[tuple[str, str, str, CommandStatus, str | None]], at: datetime
    ) -> Batch:
        readings: list[Reading] = []
        entities: dict[str, EntityRecord] = {}
        for apikey, device_id, name, status, info in updates:
            try:
                device = self._pipeline.provisioning.lookup(apikey, device_id)
            except PayloadError:
                continue  # deprovisioned since: the command table still tells the story
            # A device that never reported has no entity yet: its command status creates it.
            entities[device.entity_id] = EntityRecord(
                device.tenant, device.entity_id, device.entity_type.type_name, device.static
            )
            readings += status_readings(device, name, status, info, at)
        return Batch(tuple(readings), tuple(entities.values()))

    async def record_results(self, results: Sequence[CommandResult]) -> list[Reading]:
        """Completes the matching commands; returns the entity status readings to store."""
        readings: list[Reading] = []
        for result in results:
            command = await self._queue.complete(result)
            if command is None:
                log.warning(
                    "command result without a sent command",
                    extra={"device": result.device.device_id, "command": result.name},
                )
            readings += status_readings(
                result.device, result.name, result.status, result.result, result.received_at
            )
        return readings

    async def run(self, db: Database, every_s: float = 1.0) -> None:
        await on_notify(db, CHANNEL, self.dispatch_once, every_s)
