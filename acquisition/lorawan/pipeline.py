"""Network-server events -> readings, Device updates, command results and dead letters.

``LorawanPipeline`` is the gateway's ``MeasurePipeline`` with LoRaWAN topics
added: ChirpStack and The Things Stack events go through ``events`` readers,
the frame tracker and a codec, then into the same ``normalise`` as any IoT
Agent measure (attribute mapping, units, ranges, Smart Data Model checks).
Every other topic goes to the IoT Agent pipeline unchanged, so one gateway can
listen to both brokers' topics.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from acquisition.lorawan import chirpstack, things_stack
from acquisition.lorawan.codecs import decode_cayenne, decode_layout
from acquisition.lorawan.events import (
    DownlinkEvent,
    DownlinkOutcome,
    Join,
    LorawanEvent,
    StatusReport,
    Uplink,
)
from acquisition.lorawan.frames import FrameTracker, Verdict
from acquisition.normalise.device_entity import device_reading, device_record, last_reported
from acquisition.normalise.pipeline import MeasurePipeline, MessageOutcome, TimePolicy
from acquisition.normalise.validation import EntityValidator
from acquisition.provisioning.model import Device, Provisioning
from acquisition.records import EntityRecord, ValueType
from acquisition.store.commands import CommandResult
from capture import TIME_KEY
from support import PayloadError

FCNT_REPLAY = "fcnt_replay"
NOT_DECODED = "not_decoded"
_NOTHING = MessageOutcome((), (), ())
_RESULTS = {
    DownlinkOutcome.SENT: "OK sent",
    DownlinkOutcome.ACKED: "OK acknowledged",
    DownlinkOutcome.NACKED: "ERROR not acknowledged by the device",
    DownlinkOutcome.FAILED: "ERROR the network server could not send it",
}


def is_lorawan(topic: str) -> bool:
    return chirpstack.is_chirpstack(topic) or things_stack.is_things_stack(topic)


def flatten(decoded: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """A decoder's nested objects as ``outer_inner`` keys, the way the mapping names them."""
    flat: dict[str, object] = {}
    for key, value in decoded.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}_"))
        else:
            flat[name] = value
    return flat


class LorawanPipeline(MeasurePipeline):
    def __init__(
        self,
        provisioning: Provisioning,
        validator: EntityValidator,
        policy: TimePolicy,
        frames: FrameTracker | None = None,
    ) -> None:
        super().__init__(provisioning, validator, policy)
        self.frames = frames or FrameTracker()

    def process(self, topic: str, payload: bytes, received_at: datetime) -> MessageOutcome:
        if not is_lorawan(topic):
            return super().process(topic, payload, received_at)
        device: Device | None = None
        try:
            event = self._parse(topic, payload)
            device = self.provisioning.lorawan_device(
                event.device.dev_eui, event.device.ttn_device_id
            )
            return self._handle(device, event, received_at)
        except PayloadError as exc:
            text = payload[:4096].decode("utf-8", "replace")
            sender = device or self._sender_of(topic)
            return MessageOutcome((), (), (self._dead(received_at, topic, text, exc, sender),))

    def _sender_of(self, topic: str) -> Device | None:
        """The device a topic names (ChirpStack: devEUI; The Things Stack: device id), so
        that an unreadable event is still its tenant's dead letter."""
        parts = topic.split("/")
        if len(parts) < 4:
            return None
        named = (parts[3], None) if chirpstack.is_chirpstack(topic) else (None, parts[3])
        try:
            return self.provisioning.lorawan_device(*named)
        except PayloadError:
            return None

    @staticmethod
    def _parse(topic: str, payload: bytes) -> LorawanEvent:
        if chirpstack.is_chirpstack(topic):
            return chirpstack.parse_event(topic, payload)[1]
        return things_stack.parse_event(topic, payload)[1]

    def _handle(self, device: Device, event: LorawanEvent, received_at: datetime) -> MessageOutcome:
        if isinstance(event, Uplink):
            return self._uplink(device, event, received_at)
        if isinstance(event, StatusReport):
            return self._device_status(device, event)
        if isinstance(event, Join):
            self.frames.joined(_key(device))
            reading = device_reading(device, "deviceState", event.time, "online", ValueType.TEXT)
            return MessageOutcome((reading,), (device_record(device),), ())
        return self._downlink(device, event, received_at)

    def _uplink(self, device: Device, uplink: Uplink, received_at: datetime) -> MessageOutcome:
        verdict = self.frames.judge(_key(device), uplink)
        self.frames.count(verdict)
        if verdict is Verdict.DUPLICATE:
            return _NOTHING  # the same frame again: already taken (counted, not an error)
        if verdict is Verdict.REPLAY:
            raise PayloadError(FCNT_REPLAY, f"fCnt {uplink.f_cnt} was already used in this session")
        self.frames.accept(_key(device), uplink)
        # The network server's time is the observation time, whatever the decoder emits.
        measure = {**self._values(device, uplink), TIME_KEY: uplink.time.isoformat()}
        readings = self.normalise(device, measure, received_at)
        for name, value, unit in (("rssi", uplink.rssi, "DBM"), ("snr", uplink.snr, "2N")):
            if value is not None:
                readings.append(
                    device_reading(device, name, uplink.time, value, ValueType.NUMBER, unit)
                )
        readings.append(last_reported(device, uplink.time))
        observed = EntityRecord(
            device.tenant, device.entity_id, device.entity_type.type_name, device.static
        )
        return MessageOutcome(tuple(readings), (observed, device_record(device)), ())

    @staticmethod
    def _values(device: Device, uplink: Uplink) -> dict[str, object]:
        """The uplink's values: the platform's codec when the registry names one, else what
        the network server decoded."""
        lorawan = device.lorawan
        assert lorawan is not None  # only LoRaWAN devices are found by devEUI
        if lorawan.codec == "cayenne":
            return dict(decode_cayenne(uplink.data))
        if lorawan.codec == "layout":
            return dict(decode_layout(uplink.data, lorawan.layout))
        if uplink.decoded is None:
            raise PayloadError(
                NOT_DECODED, "no decoded object and the registry names no codec for the device"
            )
        return flatten(uplink.decoded)

    @staticmethod
    def _device_status(device: Device, status: StatusReport) -> MessageOutcome:
        readings = [last_reported(device, status.time)]
        if status.battery_percent is not None:
            level = round(status.battery_percent / 100.0, 4)
            readings.append(
                device_reading(device, "batteryLevel", status.time, level, ValueType.NUMBER, "C62")
            )
        if status.margin_db is not None:
            readings.append(
                device_reading(
                    device, "margin", status.time, float(status.margin_db), ValueType.NUMBER, "2N"
                )
            )
        return MessageOutcome(tuple(readings), (device_record(device),), ())

    @staticmethod
    def _downlink(device: Device, event: DownlinkEvent, received_at: datetime) -> MessageOutcome:
        if event.command_id is None:
            return _NOTHING  # a downlink queued by someone else: not ours to complete
        lorawan = device.lorawan
        if event.outcome is DownlinkOutcome.SENT and lorawan is not None and lorawan.confirmed:
            return _NOTHING  # a confirmed downlink completes with the device's ack
        result = CommandResult(device, "", _RESULTS[event.outcome], received_at, event.command_id)
        return MessageOutcome((), (), (), (result,))


def _key(device: Device) -> str:
    return f"{device.apikey}/{device.device_id}"
