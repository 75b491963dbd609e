"""decode -> normalise -> validate for one MQTT message; pure (time comes in as an argument)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from acquisition.formats import DECODERS, sniff_protocol
from acquisition.normalise.decoding import parse_measure_topic, parse_observation_time
from acquisition.normalise.device_entity import (
    device_reading,
    device_record,
    last_reported,
    state_reading,
)
from acquisition.normalise.validation import EntityValidator
from acquisition.provisioning.model import Device, Provisioning
from acquisition.records import DeadLetter, EntityRecord, Reading, ValueType
from acquisition.store.commands import RESULT_SUFFIX, CommandResult, parse_result
from capture import TIME_KEY
from support import PayloadError

DEAD_LETTER_PAYLOAD_CHARS = 4096
STATUS_SUFFIX = "/status"


@dataclass(frozen=True, slots=True)
class TimePolicy:
    """Which observation times are plausible relative to the time of reception."""

    max_future: timedelta
    max_past: timedelta

    def check(self, observed_at: datetime, received_at: datetime) -> None:
        if observed_at - received_at > self.max_future:
            raise PayloadError("time_in_future", f"{observed_at.isoformat()} is ahead of now")
        if received_at - observed_at > self.max_past:
            raise PayloadError("time_too_old", f"{observed_at.isoformat()} is too old")


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """What became of one message: accepted readings and/or dead letters."""

    readings: tuple[Reading, ...]
    entities: tuple[EntityRecord, ...]
    dead_letters: tuple[DeadLetter, ...]
    command_results: tuple[CommandResult, ...] = ()


class MeasurePipeline:
    """Turns raw device messages into validated NGSI-LD readings or dead letters."""

    def __init__(
        self, provisioning: Provisioning, validator: EntityValidator, policy: TimePolicy
    ) -> None:
        self._provisioning = provisioning
        self._validator = validator
        self._policy = policy

    @property
    def provisioning(self) -> Provisioning:
        return self._provisioning

    @property
    def policy(self) -> TimePolicy:
        return self._policy

    @property
    def validator(self) -> EntityValidator:
        return self._validator

    def use_provisioning(self, provisioning: Provisioning) -> None:
        """Swaps in a new registry snapshot (one reference assignment: no locking needed)."""
        self._provisioning = provisioning

    def process(self, topic: str, payload: bytes, received_at: datetime) -> MessageOutcome:
        if topic.endswith(STATUS_SUFFIX):
            return self._status(topic, payload, received_at)
        if topic.endswith(RESULT_SUFFIX):
            return self._command_result(topic, payload, received_at)
        try:
            address = parse_measure_topic(topic)
            device = self._provisioning.lookup(address.apikey, address.device_id)
            protocol = address.protocol or sniff_protocol(payload)
            measures = DECODERS[protocol](payload)
        except PayloadError as exc:
            return self._refused(received_at, topic, payload, exc)
        readings: list[Reading] = []
        dead: list[DeadLetter] = []
        seen_times: set[object] = set()
        for measure in measures:
            try:
                if measure.get(TIME_KEY) in seen_times:
                    raise PayloadError("duplicate", "two measures with the same time")
                seen_times.add(measure.get(TIME_KEY))
                readings.extend(
                    self.normalise(device, measure, received_at, textual=protocol == "ul")
                )
            except PayloadError as exc:
                text = json.dumps(measure, default=str)[:DEAD_LETTER_PAYLOAD_CHARS]
                dead.append(self._dead(received_at, topic, text, exc, device))
        if not readings:
            return MessageOutcome((), (), tuple(dead))
        readings.append(last_reported(device, max(r.observed_at for r in readings)))
        observed = EntityRecord(
            device.tenant, device.entity_id, device.entity_type.type_name, device.static
        )
        return MessageOutcome(tuple(readings), (observed, device_record(device)), tuple(dead))

    def _command_result(self, topic: str, payload: bytes, received_at: datetime) -> MessageOutcome:
        try:
            result = parse_result(self._provisioning, topic, payload, received_at)
        except PayloadError as exc:
            return self._refused(received_at, topic, payload, exc)
        return MessageOutcome((), (), (), (result,))

    def _status(self, topic: str, payload: bytes, received_at: datetime) -> MessageOutcome:
        try:
            address = parse_measure_topic(topic[: -len(STATUS_SUFFIX)] + "/attrs")
            device = self._provisioning.lookup(address.apikey, address.device_id)
            reading = state_reading(device, payload, received_at)
        except PayloadError as exc:
            return self._refused(received_at, topic, payload, exc)
        return MessageOutcome((reading,), (device_record(device),), ())

    def normalise(
        self,
        device: Device,
        measure: Mapping[str, object],
        received_at: datetime,
        textual: bool = False,
    ) -> list[Reading]:
        """One measure -> readings of the device's entity, validated against its schema."""
        if TIME_KEY not in measure:
            raise PayloadError("missing_time", f"measure has no {TIME_KEY!r} observation time")
        observed_at = parse_observation_time(measure[TIME_KEY])
        self._policy.check(observed_at, received_at)
        values: list[tuple[str, float | str, ValueType, str | None]] = []
        on_device: list[Reading] = []
        for object_id, raw in measure.items():
            if object_id == TIME_KEY:
                continue
            spec = device.attributes.get(object_id)
            if spec is None:
                raise PayloadError("unknown_attribute", f"{object_id!r:.40} is not mapped")
            value = spec.convert_text(raw) if textual else spec.convert(raw)
            if spec.on_device:
                on_device.append(
                    device_reading(
                        device, spec.name, observed_at, value, spec.value_type, spec.unit_code
                    )
                )
            else:
                values.append((spec.name, value, spec.value_type, spec.unit_code))
        if not values:
            if on_device:
                return on_device  # device information only: the observed entity is untouched
            raise PayloadError("no_values", "measure carries a time but no attribute")
        for name, value, value_type in device.entity_type.derive(observed_at, device.period_s):
            values.append((name, value, value_type, None))
        self._validate(device, {name: value for name, value, _, _ in values})
        return on_device + [
            Reading(
                device.tenant,
                device.entity_id,
                device.entity_type.type_name,
                name,
                observed_at,
                value,
                value_type,
                unit,
            )
            for name, value, value_type, unit in values
        ]

    def _validate(self, device: Device, values: Mapping[str, float | str]) -> None:
        self._validator.validate_update(
            device.entity_id, device.entity_type.type_name, device.static_key_values, values
        )

    def _refused(
        self, received_at: datetime, topic: str, payload: bytes, exc: PayloadError
    ) -> MessageOutcome:
        """A whole message refused: a dead letter for the tenant its topic names, if known,
        so that the tenant sees its own devices' broken input (not only the platform)."""
        text = payload[:DEAD_LETTER_PAYLOAD_CHARS].decode("utf-8", "replace")
        tenant, device_id = self._sender(topic)
        letter = self._dead(received_at, topic, text, exc)
        return MessageOutcome((), (), (replace(letter, tenant=tenant, device_id=device_id),))

    def _sender(self, topic: str) -> tuple[str | None, str | None]:
        """(tenant, device id) of the device a topic names: the device's when provisioned,
        the service group's tenant alone when only the apikey is known."""
        for suffix in (STATUS_SUFFIX, RESULT_SUFFIX):
            if topic.endswith(suffix):
                topic = topic[: -len(suffix)] + "/attrs"
        try:
            address = parse_measure_topic(topic)
        except PayloadError:
            return None, None
        try:
            device = self._provisioning.lookup(address.apikey, address.device_id)
        except PayloadError:
            return self._provisioning.tenant_of(address.apikey), None
        return device.tenant, device.device_id

    @staticmethod
    def _dead(
        received_at: datetime,
        topic: str,
        payload: str,
        exc: PayloadError,
        device: Device | None = None,
    ) -> DeadLetter:
        return DeadLetter(
            received_at=received_at,
            topic=topic,
            payload=payload,
            reason=exc.reason,
            detail=exc.detail,
            tenant=device.tenant if device else None,
            device_id=device.device_id if device else None,
        )
