"""The OTA service: starts the updates of active roll-outs and answers the nodes' requests.

It runs in the gateway process on an MQTT connection of its own (``/json/+/+/ota``).
Delivery is pulled by the node, one chunk at a time: every ``downloading`` report names
the chunk the node wants, and the answer is that chunk and nothing else, so a node never
holds more than one, a lost chunk is simply asked for again (the node retries), and a
restarted node resumes where its flash says. The service itself keeps no per-node state
in memory: everything is in PostgreSQL, so any gateway may answer and a restart loses
nothing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from acquisition.gateway.sink import BatchWriter
from acquisition.inputs.mqtt import InboundMessage
from acquisition.normalise.device_entity import device_reading, device_record
from acquisition.ota.bundle import Bundle, BundleError, decode_bundle
from acquisition.ota.protocol import (
    DeviceState,
    Report,
    abort_payload,
    chunk_payload,
    command_topic,
    parse_report,
    start_payload,
)
from acquisition.provisioning.model import Provisioning
from acquisition.records import Batch, ValueType
from acquisition.store.listen import on_notify
from acquisition.store.ota import OTA_CHANNEL, Delivery, OtaStore, RolloutState
from support import CiudadError, PayloadError, StoreUnavailableError
from support.store import Database

log = logging.getLogger(__name__)


class OtaLink(Protocol):
    """The service's MQTT connection (an MqttSource subscribed to the ota topics)."""

    async def next_batch(self, max_messages: int, max_wait_s: float) -> list[InboundMessage]: ...

    def ack(self, messages: Sequence[InboundMessage]) -> None: ...

    def publish(self, topic: str, payload: bytes, qos: int) -> None: ...


@dataclass(frozen=True, slots=True)
class OtaOptions:
    start_resend_s: float = 30.0  # a start nobody answered is sent again after this long
    cached_bundles: int = 8  # decoded bundles kept in memory (each at most 512 KB)


@dataclass(slots=True)
class OtaStats:
    starts: int = 0
    chunks: int = 0
    aborts: int = 0
    reports: int = 0
    refused: int = 0  # reports that could not be parsed


class OtaService:
    def __init__(
        self,
        store: OtaStore,
        link: OtaLink,
        provisioning: Callable[[], Provisioning],
        sink: BatchWriter | None = None,
        options: OtaOptions | None = None,
    ) -> None:
        self._store = store
        self._link = link
        self._provisioning = provisioning
        self._sink = sink
        self._options = options or OtaOptions()
        self._bundles: OrderedDict[int, Bundle] = OrderedDict()
        self.stats = OtaStats()

    # ---- outbound: starts and aborts -----------------------------------------------------
    async def follow(self, db: Database) -> None:
        """Sends starts and aborts on every roll-out change, and re-sends unanswered starts."""
        every = max(1.0, self._options.start_resend_s / 2)
        await on_notify(db, OTA_CHANNEL, self.send_pending, every)

    async def send_pending(self) -> None:
        try:
            for delivery in await self._store.claim_starts(self._options.start_resend_s):
                bundle = await self._bundle(delivery.bundle_id)
                self._publish(delivery, start_payload(delivery.update_id, bundle))
                self.stats.starts += 1
            for delivery in await self._store.claim_aborts():
                self._publish(delivery, abort_payload(delivery.update_id))
                self.stats.aborts += 1
        except StoreUnavailableError as exc:
            log.warning("ota: database unreachable; starts postponed", extra={"error": str(exc)})
        except CiudadError as exc:  # a stored bundle that no longer reads: tried again later
            log.error("ota: start not sent", extra={"error": str(exc)})

    def _publish(self, to: Delivery, payload: bytes) -> None:
        self._link.publish(command_topic(to.apikey, to.device_id), payload, qos=1)

    async def _bundle(self, bundle_id: int) -> Bundle:
        bundle = self._bundles.get(bundle_id)
        if bundle is None:
            bundle = decode_bundle(await self._store.bundle_data(bundle_id))
            self._bundles[bundle_id] = bundle
            while len(self._bundles) > self._options.cached_bundles:
                self._bundles.popitem(last=False)
        self._bundles.move_to_end(bundle_id)
        return bundle

    # ---- inbound: the nodes' reports -----------------------------------------------------
    async def serve(self) -> None:
        """Answers reports until cancelled."""
        while True:
            batch = await self._link.next_batch(100, 0.01)
            for message in batch:
                await self.handle(message)
            # Acknowledged even when the database was down: the node asks again by itself
            # (ota_retry_s), so a redelivery would only duplicate that request.
            self._link.ack(batch)

    async def handle(self, message: InboundMessage) -> None:
        self.stats.reports += 1
        try:
            report = parse_report(message.topic, message.payload)
            await self._answer(report)
        except PayloadError as exc:
            self.stats.refused += 1
            log.info("ota: report refused", extra={"topic": message.topic, "reason": exc.reason})
        except StoreUnavailableError as exc:
            log.warning("ota: database unreachable; report dropped", extra={"error": str(exc)})
        except CiudadError as exc:
            log.warning("ota: report not answered", extra={"error": str(exc)})
        except Exception:
            # One report must not stop the gateway (run_together ends every loop when one
            # task fails); the node asks again, and the log keeps the traceback.
            log.exception("ota: report not answered", extra={"topic": message.topic})

    async def _answer(self, report: Report) -> None:
        to = await self._store.delivery(report.update_id, report.apikey, report.device_id)
        if to is None:
            self._abort_unknown(report)
            return
        if to.rollout_state is RolloutState.ABORTED and not report.state.final:
            self._publish(to, abort_payload(to.update_id))
            self.stats.aborts += 1
            return
        if to.state.final:
            return  # a late or repeated report: the outcome is recorded already
        progress = None
        if report.state is DeviceState.DOWNLOADING:
            progress = await self._send_chunk(to, report)
        elif report.state in (DeviceState.VERIFYING, DeviceState.INSTALLED):
            progress = 1.0
        await self._store.record(to.rollout_id, report, progress)
        if report.state is not to.state:
            await self._show_on_device(report)

    async def _send_chunk(self, to: Delivery, report: Report) -> float:
        assert report.file_index is not None
        assert report.offset is not None
        bundle = await self._bundle(to.bundle_id)
        # A paused or halted roll-out answers nothing: the node keeps its progress and asks
        # again every ota_retry_s, so resuming needs no message of its own.
        if to.rollout_state is RolloutState.ACTIVE:
            try:
                data = bundle.chunk(report.file_index, report.offset)
            except BundleError as exc:
                log.info(
                    "ota: bad chunk request", extra={"device": report.device_id, "error": str(exc)}
                )
            else:
                payload = chunk_payload(to.update_id, report.file_index, report.offset, data)
                self._publish(to, payload)
                self.stats.chunks += 1
        return bundle.progress(report.file_index, report.offset)

    def _abort_unknown(self, report: Report) -> None:
        """A node working on an update the platform does not know (a deleted roll-out, a
        restored database) is told to drop it, if the node is one of ours."""
        if report.state.final:
            return
        try:
            self._provisioning().lookup(report.apikey, report.device_id)
        except PayloadError:
            return
        self._link.publish(
            command_topic(report.apikey, report.device_id), abort_payload(report.update_id), 1
        )
        self.stats.aborts += 1

    async def _show_on_device(self, report: Report) -> None:
        """The update's state (and, once known, the running version) on the Device entity."""
        if self._sink is None:
            return
        try:
            device = self._provisioning().lookup(report.apikey, report.device_id)
        except PayloadError:
            return
        at = datetime.now(UTC)
        state = report.state.value + (f" ({report.reason})" if report.reason else "")
        readings = [device_reading(device, "firmwareUpdate", at, state, ValueType.TEXT)]
        if report.version and report.state in (DeviceState.CONFIRMED, DeviceState.ROLLED_BACK):
            readings.append(
                device_reading(device, "firmwareVersion", at, report.version, ValueType.TEXT)
            )
        try:
            await self._sink.write_batch(
                Batch(readings=tuple(readings), entities=(device_record(device),))
            )
        except StoreUnavailableError as exc:
            log.warning("ota: device entity not updated", extra={"error": str(exc)})
