"""The gateway's fast path: decode and normalise a batch column by column.

Single-object JSON messages (the common case) are grouped per device and per
attribute set, and each attribute becomes a column checked at once with numpy (types, finiteness,
physical ranges, time plausibility, schema bounds). Rows that pass every
check become readings; any other message, or any row that fails a check,
goes through the per-message pipeline, which names the reason. Both paths
must give the same result (``tests/unit/test_columnar.py``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from acquisition.decoding import parse_measure_topic
from acquisition.device_entity import device_reading, device_record, last_reported
from acquisition.entities.base import AttributeSpec
from acquisition.formats import MAX_PAYLOAD_BYTES
from acquisition.mqtt_source import InboundMessage
from acquisition.pipeline import MeasurePipeline, MessageOutcome
from acquisition.provisioning import Device
from acquisition.records import EntityRecord, Reading, ValueType
from capture import TIME_KEY
from support import PayloadError

BoolArray = npt.NDArray[np.bool_]


@dataclass(slots=True)
class _Group:
    """Messages of one device whose measures carry the same attributes."""

    device: Device
    messages: list[InboundMessage] = field(default_factory=list)
    measures: list[dict[str, object]] = field(default_factory=list)


@dataclass(slots=True)
class ColumnarResult:
    readings: list[Reading] = field(default_factory=list)
    entities: dict[str, EntityRecord] = field(default_factory=dict)
    leftovers: list[InboundMessage] = field(default_factory=list)  # for the scalar path


def _candidates(
    pipeline: MeasurePipeline, messages: Sequence[InboundMessage], out: ColumnarResult
) -> dict[tuple[str, str], list[InboundMessage]]:
    """Single-object JSON measure messages of known devices, grouped per device."""
    by_device: dict[tuple[str, str], list[InboundMessage]] = defaultdict(list)
    for message in messages:
        payload = message.payload.lstrip()
        if not message.topic.endswith("/attrs") or payload[:1] != b"{":
            out.leftovers.append(message)
            continue
        try:
            address = parse_measure_topic(message.topic)
            pipeline.provisioning.lookup(address.apikey, address.device_id)
        except PayloadError:
            out.leftovers.append(message)
            continue
        if address.protocol == "ul":
            out.leftovers.append(message)
            continue
        by_device[(address.apikey, address.device_id)].append(message)
    return by_device


def _decode(payload: bytes) -> object:
    # Each payload on its own: joining them into one document would let one message's
    # bytes complete another's, blurring message boundaries.
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


def _shape_groups(
    device: Device, messages: list[InboundMessage], out: ColumnarResult
) -> list[_Group]:
    groups: dict[frozenset[str], _Group] = {}
    for message in messages:
        measure = _decode(message.payload)
        if not isinstance(measure, dict) or TIME_KEY not in measure or len(measure) < 2:
            out.leftovers.append(message)
            continue
        keys = frozenset(measure)
        if not keys - {TIME_KEY} <= device.attributes.keys():
            out.leftovers.append(message)
            continue
        group = groups.setdefault(keys, _Group(device))
        group.messages.append(message)
        group.measures.append(measure)
    return list(groups.values())


def _times(pipeline: MeasurePipeline, group: _Group) -> tuple[list[datetime | None], BoolArray]:
    """Parsed observation times and the mask of plausible ones."""
    parsed: list[datetime | None] = []
    for measure in group.measures:
        raw = measure[TIME_KEY]
        try:
            stamp = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            stamp = None
        parsed.append(stamp if stamp is not None and stamp.tzinfo is not None else None)
    ok = np.array([t is not None for t in parsed])
    if ok.any():
        policy = pipeline.policy
        received = np.array([m.received_at.timestamp() for m in group.messages])
        observed = np.array([t.timestamp() if t is not None else 0.0 for t in parsed])
        ahead = observed - received
        ok &= ahead <= policy.max_future.total_seconds()
        ok &= -ahead <= policy.max_past.total_seconds()
    return parsed, ok


def _number_column(
    spec: AttributeSpec, raw: list[object]
) -> tuple[npt.NDArray[np.float64], BoolArray]:
    typed = np.array([type(v) is int or type(v) is float for v in raw])
    values = np.array(
        [v if t else np.nan for v, t in zip(raw, typed, strict=True)], dtype=np.float64
    )
    ok = typed & np.isfinite(values)
    if spec.minimum is not None:
        ok &= values >= spec.minimum
    if spec.maximum is not None:
        ok &= values <= spec.maximum
    return values * spec.scale, ok


def _text_column(spec: AttributeSpec, raw: list[object]) -> BoolArray:
    return np.array(
        [isinstance(v, str) and v != "" and (not spec.allowed or v in spec.allowed) for v in raw]
    )


def _columns(
    pipeline: MeasurePipeline, group: _Group
) -> tuple[list[tuple[AttributeSpec, list[object], BoolArray]], BoolArray] | None:
    """Converted columns and the mask of rows passing every check; None: use the scalar path."""
    device = group.device
    names = sorted(k for k in group.measures[0] if k != TIME_KEY)
    specs = [device.attributes[n] for n in names]
    if all(s.on_device for s in specs):
        return None
    ok = np.ones(len(group.measures), dtype=bool)
    columns: list[tuple[AttributeSpec, list[object], BoolArray]] = []
    for spec in specs:
        raw = [m[spec.object_id] for m in group.measures]
        if spec.value_type is ValueType.NUMBER:
            values, valid = _number_column(spec, raw)
            column: list[object] = values.tolist()
        else:
            valid = _text_column(spec, raw)
            column = raw
        if not spec.on_device:
            check = pipeline.validator.value_check(device.entity_type.type_name, spec.name)
            if check is None:
                return None
            valid &= np.array([v and check(x) is None for v, x in zip(valid, column, strict=True)])
        ok &= valid
        columns.append((spec, column, valid))
    return columns, ok


def _group_readings(pipeline: MeasurePipeline, group: _Group, out: ColumnarResult) -> None:
    device = group.device
    built = _columns(pipeline, group)
    if built is None:
        out.leftovers.extend(group.messages)
        return
    columns, ok = built
    times, time_ok = _times(pipeline, group)
    ok &= time_ok
    entity_names = {spec.name for spec, _, _ in columns if not spec.on_device}
    entity_type = device.entity_type
    period = device.period_s
    for i, message in enumerate(group.messages):
        observed = times[i]
        if not ok[i] or observed is None:
            out.leftovers.append(message)
            continue
        derived = entity_type.derive(observed, period)
        names = frozenset(entity_names | {name for name, _, _ in derived})
        check = pipeline.validator.value_check
        if not pipeline.validator.shape_validated(device.entity_id, names) or any(
            (c := check(entity_type.type_name, name)) is None or c(value) is not None
            for name, value, _ in derived
        ):
            out.leftovers.append(message)  # the scalar path validates in full, or says why not
            continue
        _emit_row(device, columns, i, observed, derived, out)


def _emit_row(
    device: Device,
    columns: list[tuple[AttributeSpec, list[object], BoolArray]],
    i: int,
    observed: datetime,
    derived: list[tuple[str, float | str, ValueType]],
    out: ColumnarResult,
) -> None:
    type_name = device.entity_type.type_name
    for spec, column, _ in columns:
        value = column[i]
        assert isinstance(value, float | str)  # checked by the column's mask
        if spec.on_device:
            out.readings.append(
                device_reading(device, spec.name, observed, value, spec.value_type, spec.unit_code)
            )
        else:
            out.readings.append(
                Reading(
                    device.tenant,
                    device.entity_id,
                    type_name,
                    spec.name,
                    observed,
                    value,
                    spec.value_type,
                    spec.unit_code,
                )
            )
    for name, value, value_type in derived:
        out.readings.append(
            Reading(
                device.tenant, device.entity_id, type_name, name, observed, value, value_type, None
            )
        )
    out.readings.append(last_reported(device, observed))
    out.entities[device.entity_id] = EntityRecord(
        device.tenant, device.entity_id, type_name, device.static
    )
    record = device_record(device)
    out.entities[record.entity_id] = record


def normalise_columns(
    pipeline: MeasurePipeline, messages: Sequence[InboundMessage]
) -> ColumnarResult:
    """Readings of every message the fast path can take; the rest in ``leftovers``."""
    out = ColumnarResult()
    for (apikey, device_id), group_messages in _candidates(pipeline, messages, out).items():
        device = pipeline.provisioning.lookup(apikey, device_id)
        for group in _shape_groups(device, group_messages, out):
            _group_readings(pipeline, group, out)
    return out


def outcome_of(result: ColumnarResult) -> MessageOutcome:
    return MessageOutcome(tuple(result.readings), tuple(result.entities.values()), ())
