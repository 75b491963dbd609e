"""The gateway's fast path: decode and normalise a batch column by column.

JSON measure messages of known devices (single objects and backlog arrays) are
split into measures and grouped per entity type and attribute set, across devices (a batch from a
thousand devices is a few groups, not a thousand), and each attribute becomes
a column checked at once with numpy (types, finiteness, physical ranges, time
plausibility) and against the compiled schema checks. Every other message
(UltraLight; status; command results; the first update of an entity shape;
a message any measure of which fails a check: a message is taken whole or not
at all) goes through the per-message
pipeline, which names the reason for a refusal.
Both paths give the same result (``tests/unit/test_columnar.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
import numpy as np
import numpy.typing as npt

from acquisition.entities.base import AttributeSpec
from acquisition.formats import MAX_MEASURES_PER_MESSAGE, MAX_PAYLOAD_BYTES
from acquisition.inputs.mqtt import InboundMessage
from acquisition.normalise.decoding import parse_measure_topic
from acquisition.normalise.device_entity import device_reading, device_record, last_reported
from acquisition.normalise.pipeline import MeasurePipeline
from acquisition.provisioning.model import Device
from acquisition.records import EntityRecord, Reading, ValueType
from capture import TIME_KEY
from support import PayloadError
from support.times import to_epoch_us

BoolArray = npt.NDArray[np.bool_]
_JSON = msgspec.json.Decoder()  # stateless; 2-3x json.loads on measure payloads


@dataclass(slots=True)
class _Row:
    message: int  # its message's index in the batch
    device: Device
    measure: dict[str, object]
    received_at: datetime


@dataclass(slots=True)
class _Group:
    """Measures of one entity type with the same attributes, mapped the same way."""

    type_name: str
    specs: tuple[AttributeSpec, ...]  # of the measure's attributes, by object id
    rows: list[_Row] = field(default_factory=list)


@dataclass(slots=True)
class ColumnarResult:
    readings: list[Reading] = field(default_factory=list)
    entities: dict[str, EntityRecord] = field(default_factory=dict)
    leftovers: list[InboundMessage] = field(default_factory=list)  # for the scalar path


def _device_of(pipeline: MeasurePipeline, message: InboundMessage) -> Device | None:
    """The known device of a JSON measure message, or None when the scalar path must judge."""
    if not message.topic.endswith("/attrs") or message.payload.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        address = parse_measure_topic(message.topic)
        device = pipeline.provisioning.lookup(address.apikey, address.device_id)
    except PayloadError:
        return None
    return None if address.protocol == "ul" else device


def _decode(payload: bytes) -> list[dict[str, object]] | None:
    """The measures of a message, or None when the scalar path must judge it (it names
    the reason): every measure an object with a text time and a value, no time twice."""
    # Each payload on its own: joining them into one document would let one message's
    # bytes complete another's, blurring message boundaries.
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        body = _JSON.decode(payload)
    except msgspec.DecodeError:
        return None  # also NaN, 1e400 and lone surrogates, which the scalar path judges
    measures = body if isinstance(body, list) else [body]
    if not 0 < len(measures) <= MAX_MEASURES_PER_MESSAGE:
        return None
    times = set()
    for m in measures:
        if not isinstance(m, dict) or len(m) < 2 or not isinstance(m.get(TIME_KEY), str):
            return None
        times.add(m[TIME_KEY])
    return measures if len(times) == len(measures) else None


def _groups(
    pipeline: MeasurePipeline, messages: Sequence[InboundMessage], out: ColumnarResult
) -> list[_Group]:
    groups: dict[tuple[str, tuple[AttributeSpec, ...]], _Group] = {}
    # A device's measures mostly repeat their keys: its group is found by the device and the
    # keys as sent, without sorting them or hashing the attribute specs again.
    known: dict[tuple[int, tuple[str, ...]], _Group] = {}
    for index, message in enumerate(messages):
        device = _device_of(pipeline, message)
        measures = _decode(message.payload) if device is not None else None
        if device is None or measures is None:
            out.leftovers.append(message)
            continue
        try:
            targets = [_group_of(device, measure, groups, known) for measure in measures]
        except KeyError:
            out.leftovers.append(message)  # an unmapped attribute: the scalar path names it
            continue
        for group, measure in zip(targets, measures, strict=True):
            group.rows.append(_Row(index, device, measure, message.received_at))
    return [g for g in groups.values() if g.rows]  # a group of a refused message only: none


def _group_of(
    device: Device,
    measure: dict[str, object],
    groups: dict[tuple[str, tuple[AttributeSpec, ...]], _Group],
    known: dict[tuple[int, tuple[str, ...]], _Group],
) -> _Group:
    """The group of the measure (KeyError: an attribute the device does not map)."""
    sent = (id(device), tuple(measure))
    group = known.get(sent)
    if group is None:
        key = (device.entity_type.type_name, _specs(device, measure))
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(*key)
        known[sent] = group
    return group


def _specs(device: Device, measure: dict[str, object]) -> tuple[AttributeSpec, ...]:
    return tuple(device.attributes[k] for k in sorted(measure) if k != TIME_KEY)


def _times(pipeline: MeasurePipeline, group: _Group) -> tuple[list[datetime | None], BoolArray]:
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
        received = np.array([r.received_at.timestamp() for r in group.rows])
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
    if all(s.on_device for s in group.specs):
        return None
    ok = np.ones(len(group.rows), dtype=bool)
    columns: list[Column] = []
    for spec in group.specs:
        raw = [row.measure[spec.object_id] for row in group.rows]
        if spec.value_type is ValueType.NUMBER:
            values, valid = _number_column(spec, raw)
            column: list[object] = values.tolist()
        else:
            valid = _text_column(spec, raw)
            column = raw
        if not spec.on_device:
            check = pipeline.validator.value_check(group.type_name, spec.name)
            if check is None:
                return None
            valid &= np.array([v and check(x) is None for v, x in zip(valid, column, strict=True)])
        ok &= valid
        columns.append((spec, column, valid))
    return columns, ok


def _validated_names(group: _Group) -> frozenset[str]:
    """The attributes an entity of the group ends up with: what a full validation covers.

    Derived attributes (observation periods and dates) are made by our code from a valid
    time, so they are always valid: the property test in tests/unit/test_columnar.py
    holds the fast path to the scalar one, which does check them.
    """
    derived = group.rows[0].device.entity_type.derived_times
    names = {spec.name for spec in group.specs if not spec.on_device}
    return frozenset(names | {d.name for d in derived})


RowResult = tuple[datetime, list[Reading]] | None  # None: its message goes scalar


def _group_results(pipeline: MeasurePipeline, group: _Group) -> list[RowResult]:
    """Per row, its time and readings if it passes every check and its entity was already
    fully validated with these attributes (the scalar path does that the first time)."""
    built = _columns(pipeline, group)
    if built is None:
        return [None] * len(group.rows)
    columns, ok = built
    times, time_ok = _times(pipeline, group)
    ok &= time_ok
    names = _validated_names(group)
    derived = _derived_columns(group, times, ok)
    results: list[RowResult] = []
    for i, (row, observed) in enumerate(zip(group.rows, times, strict=True)):
        if not ok[i] or observed is None or not _shape_known(pipeline, row, names):
            results.append(None)
            continue
        results.append((observed, _readings_of_row(row.device, columns, i, observed, derived)))
    return results


def _derived_columns(
    group: _Group, times: list[datetime | None], ok: BoolArray
) -> list[tuple[str, list[str]]]:
    """The derived attributes (observation dates) of the group's rows, formatted at once;
    a refused row's are placeholders, never used."""
    entity_type = group.rows[0].device.entity_type  # a group is of one entity type
    if not entity_type.derived_times:
        return []
    observed_us = np.array(
        [to_epoch_us(t) if t is not None and k else 0 for t, k in zip(times, ok, strict=True)],
        dtype=np.int64,
    )
    periods = np.array([row.device.period_s for row in group.rows], dtype=np.float64)
    return entity_type.derive_columns(observed_us, periods)


def _shape_known(pipeline: MeasurePipeline, row: _Row, names: frozenset[str]) -> bool:
    """Whether the row's entity had a full validation with these attributes; the first
    time, the row gets it here, from the scalar path's own check (a failure leaves its
    message to the scalar path, which names the reason)."""
    shape_validated = pipeline.validator.shape_validated
    if shape_validated(row.device.entity_id, names):
        return True
    try:
        pipeline.normalise(row.device, row.measure, row.received_at)
    except PayloadError:
        return False
    return shape_validated(row.device.entity_id, names)


def _take(device: Device, rows: list[RowResult], out: ColumnarResult) -> None:
    """A message whose every measure passed: its readings, its device's last report."""
    times = []
    for row in rows:
        assert row is not None
        times.append(row[0])
        out.readings.extend(row[1])
    out.readings.append(last_reported(device, max(times)))
    if device.entity_id not in out.entities:
        out.entities[device.entity_id] = EntityRecord(
            device.tenant, device.entity_id, device.entity_type.type_name, device.static
        )
        record = device_record(device)
        out.entities[record.entity_id] = record


def _readings_of_row(
    device: Device,
    columns: list[Column],
    i: int,
    observed: datetime,
    derived: list[tuple[str, list[str]]],
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
    for name, texts in derived:
        readings.append(
            Reading(
                device.tenant,
                device.entity_id,
                type_name,
                name,
                observed,
                texts[i],
                ValueType.DATETIME,
                None,
            )
        )
    return readings


def normalise_columns(
    pipeline: MeasurePipeline, messages: Sequence[InboundMessage]
) -> ColumnarResult:
    """Readings of every message the fast path can take; the rest in ``leftovers``."""
    out = ColumnarResult()
    per_message: dict[int, tuple[Device, list[RowResult]]] = {}
    for group in _groups(pipeline, messages, out):
        for row, result in zip(group.rows, _group_results(pipeline, group), strict=True):
            per_message.setdefault(row.message, (row.device, []))[1].append(result)
    for index in sorted(per_message):
        device, rows = per_message[index]
        if any(r is None for r in rows):
            out.leftovers.append(messages[index])
        else:
            _take(device, rows, out)
    return out
