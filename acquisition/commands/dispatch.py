"""The gateway's side of the commands downlink: publish queued commands, record results.

IoT Agent devices get their command on ``/<apikey>/<device>/cmd``; LoRaWAN devices
get it as their network server's downlink (``acquisition.lorawan.downlink``), on
the network server's broker, completed later by its ack/txack events.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from acquisition.gateway.sink import BatchWriter
from acquisition.lorawan.downlink import downlink
from acquisition.normalise.pipeline import MeasurePipeline
from acquisition.records import Batch, EntityRecord, Reading
from acquisition.store.commands import (
    CHANNEL,
    Command,
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
        sink: BatchWriter,
        pipeline: MeasurePipeline,
        lorawan: CommandPublisher | None = None,
    ) -> None:
        self._queue = queue
        self._publisher = publisher
        self._lorawan = lorawan  # the network server's broker, when LoRaWAN devices are served
        self._sink = sink
        self._pipeline = pipeline
        self.sent = 0
        self.expired = 0

    async def dispatch_once(self) -> None:
        """Publishes every pending command and expires the overdue ones."""
        now = datetime.now(UTC)
        updates: list[tuple[str, str, str, CommandStatus, str | None]] = []
        for command in await self._queue.take_pending():
            refused = await self._publish(command, now)
            status = CommandStatus.SENT if refused is None else CommandStatus.ERROR
            updates.append((command.apikey, command.device_id, command.name, status, refused))
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

    async def _publish(self, command: Command, now: datetime) -> str | None:
        """Sends one command; returns why it could not be sent (then it is an ERROR)."""
        try:
            device = self._pipeline.provisioning.lookup(command.apikey, command.device_id)
        except PayloadError:
            device = None
        if device is None or device.lorawan is None:
            topic = command_topic(command.apikey, command.device_id)
            self._publisher.publish(topic, command.payload(), 1)
            self.sent += 1
            return None
        try:
            if self._lorawan is None:
                raise PayloadError("no_lorawan", "no LoRaWAN broker (CIUDAD_LORAWAN_MQTT_HOST)")
            topic, payload = downlink(device.lorawan, command.id, command.name, command.value)
        except PayloadError as exc:
            info = f"ERROR {exc.detail}"
            await self._queue.complete(CommandResult(device, command.name, info, now, command.id))
            return exc.detail
        self._lorawan.publish(topic, payload, 1)
        self.sent += 1
        return None

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
                if result.command_id is not None:
                    continue  # a LoRaWAN result names no command: nothing to show it on
            name = command.name if command is not None else result.name
            readings += status_readings(
                result.device, name, result.status, result.result, result.received_at
            )
        return readings

    async def run(self, db: Database, every_s: float = 1.0) -> None:
        await on_notify(db, CHANNEL, self.dispatch_once, every_s)
