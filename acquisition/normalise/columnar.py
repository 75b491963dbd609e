"""The gateway's fast path: decode and normalise a batch column by column.

Single-object JSON measure messages of known devices (the common case) are
grouped per device and attribute set, and each attribute becomes a column
checked at once with numpy (types, finiteness, physical ranges, time
plausibility) and against the compiled schema checks. Every other message
(backlog arrays, whose per-message cost is already spread over many
measures; UltraLight; status; command results; the first update of an
entity shape; anything that fails a check) goes through the per-message
pipeline, which names the reason for a refusal.
Both paths give the same result (``tests/unit/test_columnar.py``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from acquisition.entities.base import AttributeSpec
from acquisition.formats import MAX_PAYLOAD_BYTES
from acquisition.inputs.mqtt import InboundMessage
from acquisition.normalise.decoding import parse_measure_topic
from acquisition.normalise.device_entity import device_reading, device_record, last_reported
from acquisition.normalise.pipeline import MeasurePipeline
from acquisition.provisioning.model import Device
from acquisition.records import EntityRecord, Reading, ValueType
from capture import TIME_KEY
from support import PayloadError

BoolArray = npt.NDArray[np.bool_]
_TIME_ONLY = frozenset({TIME_KEY})


@dataclass(slots=True)
class _Row:
    message: int  # index of its message in the device's list
    measure: dict[str, object]


@dataclass(slots=True)
class _Group:
    """Measures of one device that carry the same attributes."""

    device: Device
    rows: list[_Row] = field(default_factory=list)


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


def _decode(payload: bytes) -> list[dict[str, object]] | None:
    """The measure of a single-object message, or None when the scalar path must judge it."""
    # Each payload on its own: joining them into one document would let one message's
    # bytes complete another's, blurring message boundaries.
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(body, dict) or len(body) < 2 or not isinstance(body.get(TIME_KEY), str):
        return None
    return [body]


def _shape_groups(
    device: Device, messages: list[InboundMessage], out: ColumnarResult
) -> list[_Group]:
    groups: dict[frozenset[str], _Group] = {}
    for index, message in enumerate(messages):
        measures = _decode(message.payload)
        shapes = [frozenset(m) for m in measures] if measures is not None else None
        if (
            measures is None
            or shapes is None
            or not all(shape - _TIME_ONLY <= device.attributes.keys() for shape in shapes)
        ):
            out.leftovers.append(message)
            continue
        for measure, shape in zip(measures, shapes, strict=True):
            groups.setdefault(shape, _Group(device)).rows.append(_Row(index, measure))
    return list(groups.values())


def _times(
    pipeline: MeasurePipeline, group: _Group, messages: list[InboundMessage]
) -> tuple[list[datetime | None], BoolArray]:
    """Parsed observation times and the mask of plausible ones."""
    parsed: list[datetime | None] = []
    for row in group.rows:
        raw = row.measure[TIME_KEY]
        try:
            stamp = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            stamp = None
        parsed.append(stamp if stamp is not None and stamp.tzinfo is not None else None)
    ok = np.array([t is not None for t in parsed])
    if ok.any():
        policy = pipeline.policy
        received = np.array([messages[r.message].received_at.timestamp() for r in group.rows])
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


Column = tuple[AttributeSpec, list[object], BoolArray]


def _columns(pipeline: MeasurePipeline, group: _Group) -> tuple[list[Column], BoolArray] | None:
    """Converted columns and the mask of rows passing every check; None: use the scalar path."""
    device = group.device
    names = sorted(k for k in group.rows[0].measure if k != TIME_KEY)
    specs = [device.attributes[n] for n in names]
    if all(s.on_device for s in specs):
        return None
    ok = np.ones(len(group.rows), dtype=bool)
    columns: list[Column] = []
    for spec in specs:
        raw = [row.measure[spec.object_id] for row in group.rows]
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


def _row_readings(
    pipeline: MeasurePipeline, group: _Group, messages: list[InboundMessage]
) -> list[tuple[datetime, list[Reading]] | None]:
    """Per row: its observation time and readings, or None when the row must go scalar."""
    device = group.device
    built = _columns(pipeline, group)
    if built is None or not _shape_known(pipeline, device, built[0]):
        return [None] * len(group.rows)  # the scalar path validates the shape in full first
    columns, ok = built
    times, time_ok = _times(pipeline, group, messages)
    ok &= time_ok
    derive = device.entity_type.derive
    return [
        (
            observed,
            _readings_of_row(device, columns, i, observed, derive(observed, device.period_s)),
        )
        if ok[i] and observed is not None
        else None
        for i, observed in enumerate(times)
    ]


def _shape_known(pipeline: MeasurePipeline, device: Device, columns: list[Column]) -> bool:
    """Whether this entity already had a full validation with these attributes.

    Derived attributes (observation periods and dates) are made by our code from a valid
    time, so they are always valid: the property test in tests/unit/test_columnar.py
    holds the fast path to the scalar one, which does check them.
    """
    sample = device.entity_type.derive(datetime(2000, 1, 1, tzinfo=UTC), device.period_s)
    names = {spec.name for spec, _, _ in columns if not spec.on_device}
    names |= {name for name, _, _ in sample}
    return pipeline.validator.shape_validated(device.entity_id, frozenset(names))


def _readings_of_row(
    device: Device,
    columns: list[Column],
    i: int,
    observed: datetime,
    derived: list[tuple[str, float | str, ValueType]],
) -> list[Reading]:
    type_name = device.entity_type.type_name
    readings: list[Reading] = []
    for spec, column, _ in columns:
        value = column[i]
        assert isinstance(value, float | str)  # checked by the column's mask
        if spec.on_device:
            readings.append(
                device_reading(device, spec.name, observed, value, spec.value_type, spec.unit_code)
            )
        else:
            readings.append(
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
        readings.append(
            Reading(
                device.tenant, device.entity_id, type_name, name, observed, value, value_type, None
            )
        )
    return readings


def _device_readings(
    pipeline: MeasurePipeline,
    device: Device,
    messages: list[InboundMessage],
    out: ColumnarResult,
) -> None:
    """Takes every message of the device whose measures all pass; the rest go scalar."""
    per_message: dict[int, list[tuple[datetime, list[Reading]] | None]] = defaultdict(list)
    for group in _shape_groups(device, messages, out):
        for row, result in zip(group.rows, _row_readings(pipeline, group, messages), strict=True):
            per_message[row.message].append(result)
    taken = False
    for index, results in per_message.items():
        if any(r is None for r in results):
            out.leftovers.append(messages[index])
            continue
        rows = [r for r in results if r is not None]
        for _, readings in rows:
            out.readings.extend(readings)
        out.readings.append(last_reported(device, max(t for t, _ in rows)))
        taken = True
    if taken:
        observed = EntityRecord(
            device.tenant, device.entity_id, device.entity_type.type_name, device.static
        )
        out.entities[observed.entity_id] = observed
        record = device_record(device)
        out.entities[record.entity_id] = record


def normalise_columns(
    pipeline: MeasurePipeline, messages: Sequence[InboundMessage]
) -> ColumnarResult:
    """Readings of every message the fast path can take; the rest in ``leftovers``."""
    out = ColumnarResult()
    for (apikey, device_id), device_messages in _candidates(pipeline, messages, out).items():
        device = pipeline.provisioning.lookup(apikey, device_id)
        _device_readings(pipeline, device, device_messages, out)
    return out
