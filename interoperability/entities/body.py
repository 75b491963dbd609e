"""NGSI-LD request bodies -> knowledge-layer records.

A Property whose value is a number or a string, with nothing but ``unitCode`` and
``observedAt`` beside it, becomes a reading (current state and history, ``observedAt``
or now). Every other attribute (GeoProperties, Relationships, structured values, the
other NGSI-LD attribute types, attributes with sub-attributes or a ``datasetId``,
several instances as a list) and ``scope`` are kept verbatim as the entity's static
attributes, so they are read back as written (without history, for now).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from acquisition import EntityRecord, Reading, ValueType
from interoperability.deps import (
    BadRequestError,
    InvalidRequestError,
    check_name,
    check_time,
    parse_time,
)
from interoperability.entities.attribute_merge import combine
from interoperability.entities.write_clock import WriteClock
from interoperability.ngsild import VALUE_MEMBER
from knowledge import KeptInstance
from support.times import iso_utc

ATTRIBUTE_TYPES = frozenset(VALUE_MEMBER)
# The core context makes these names @id and @type: an entity type cannot be one.
KEYWORD_ALIASES = frozenset({"id", "type"})
RESERVED = frozenset({"id", "type", "@context", "createdAt", "modifiedAt"})
# What a reading keeps of a Property; anything more keeps the attribute whole instead.
READING_MEMBERS = frozenset({"type", "value", "unitCode", "observedAt"})


@dataclass(frozen=True, slots=True)
class ParsedAttributes:
    static: dict[str, Any]
    readings: tuple[Reading, ...]
    kept: tuple[KeptInstance, ...] = ()  # the history of the static attributes' instances

    def kept_of(self, dataset_ids: Mapping[str, set[str | None]]) -> tuple[KeptInstance, ...]:
        """Only the instances a write gave (by attribute, their datasetIds)."""
        return tuple(k for k in self.kept if k.dataset_id in dataset_ids.get(k.attr, ()))


def _observed_at(fragment: Mapping[str, Any], name: str, clock: WriteClock) -> datetime:
    text = fragment.get("observedAt")
    if text is None:
        return clock.admit(name, clock.now)
    moment = parse_time(f"{name}.observedAt", text)
    if moment.tzinfo is None:
        raise BadRequestError(f"{name}.observedAt needs a timezone (e.g. Z)")
    return clock.admit(f"{name}.observedAt", moment)


def stamped(fragment: Any, now: datetime) -> Any:
    """Each instance with its system times (NGSI-LD 4.8): created when first written (a
    createdAt it carries, from the instance it replaces, stays), modified now."""
    if isinstance(fragment, list):
        return [stamped(instance, now) for instance in fragment]
    moment = iso_utc(now)
    return {**fragment, "createdAt": fragment.get("createdAt", moment), "modifiedAt": moment}


def _kept(name: str, fragment: Any, now: datetime) -> list[KeptInstance]:
    """Each instance at its observedAt (checked as a time, without the reading limits:
    a Relationship observed years ago is still a fact), or at the write's time."""
    kept = []
    for instance in fragment if isinstance(fragment, list) else [fragment]:
        at = now
        if "observedAt" in instance:
            moment = parse_time(f"{name}.observedAt", instance["observedAt"])
            at = check_time(f"{name}.observedAt", moment)
        kept.append(KeptInstance(name, at, instance.get("datasetId"), instance))
    return kept


def _check_numbers(name: str, fragment: Any) -> None:
    """JSON as Python reads it admits NaN, Infinity and integers beyond any float: none is
    a measurement, and one NaN would poison every aggregate it enters."""
    if isinstance(fragment, dict):
        for member in fragment.values():
            _check_numbers(name, member)
    elif isinstance(fragment, list):
        for member in fragment:
            _check_numbers(name, member)
    elif isinstance(fragment, int | float) and not isinstance(fragment, bool):
        try:
            finite = math.isfinite(float(fragment))
        except OverflowError:
            finite = False
        if not finite:
            raise BadRequestError(f"attribute {name!r:.80} holds a number out of range (NaN, ±inf)")


def _scope(value: Any) -> Any:
    scopes = value if isinstance(value, list) else [value]
    if not scopes or not all(isinstance(s, str) and s.startswith("/") for s in scopes):
        raise BadRequestError("scope must be a path like /Madrid/Centro, or a list of them")
    return value


def _check_instance(name: str, instance: Any) -> None:
    kind = instance.get("type") if isinstance(instance, dict) else None
    if kind not in ATTRIBUTE_TYPES:
        raise BadRequestError(
            f"attribute {name!r:.80} must be an object (or a list of them) of an NGSI-LD "
            f"attribute type: {', '.join(sorted(ATTRIBUTE_TYPES))}"
        )
    if instance.get(VALUE_MEMBER[kind]) is None:
        raise BadRequestError(f"attribute {name!r:.80} has no {VALUE_MEMBER[kind]}")
    _check_numbers(name, instance)


def _reading(
    tenant: str,
    entity_id: str,
    entity_type: str,
    name: str,
    fragment: Mapping[str, Any],
    clock: WriteClock,
) -> Reading:
    value = fragment["value"]
    return Reading(
        tenant,
        entity_id,
        entity_type,
        name,
        _observed_at(fragment, name, clock),
        float(value) if not isinstance(value, str) else value,
        ValueType.TEXT if isinstance(value, str) else ValueType.NUMBER,
        fragment.get("unitCode"),
        time_stated="observedAt" in fragment,
    )


def _reading_shaped(fragment: Mapping[str, Any]) -> bool:
    return fragment["type"] == "Property" and fragment.keys() <= READING_MEMBERS


def parse_attributes(
    tenant: str,
    entity_id: str,
    entity_type: str,
    body: Mapping[str, Any],
    clock: WriteClock,
    static_only: frozenset[str] = frozenset(),
) -> ParsedAttributes:
    """``static_only`` names attributes kept whole even if they look like a reading."""
    static: dict[str, Any] = {}
    readings: list[Reading] = []
    kept: list[KeptInstance] = []
    for name, fragment in body.items():
        if name in RESERVED:
            continue
        if name == "scope":
            static[name] = _scope(fragment)
            continue
        check_name("attribute name", name)
        instances = fragment if isinstance(fragment, list) and fragment else [fragment]
        for instance in instances:
            _check_instance(name, instance)
        value = fragment.get("value") if isinstance(fragment, dict) else None
        is_scalar = isinstance(value, (int, float, str)) and not isinstance(value, bool)
        if is_scalar and name not in static_only and _reading_shaped(fragment):
            readings.append(_reading(tenant, entity_id, entity_type, name, fragment, clock))
        else:
            static[name] = stamped(fragment, clock.now)
            kept += _kept(name, static[name], clock.now)
    return ParsedAttributes(static, tuple(readings), tuple(kept))


def parse_entity(
    tenant: str, body: Any, clock: WriteClock
) -> tuple[EntityRecord, ParsedAttributes]:
    if not isinstance(body, dict) or not body:
        raise InvalidRequestError("the body must be a JSON object (an NGSI-LD entity)")
    entity_id, entity_type = body.get("id"), body.get("type")
    if not isinstance(entity_id, str) or ":" not in entity_id:
        raise BadRequestError("id must be a URI (e.g. urn:ngsi-ld:Streetlight:leon:001)")
    check_name("id", entity_id)
    entity_type, *others = parse_types(entity_type)
    parsed = parse_attributes(tenant, entity_id, entity_type, body, clock)
    return EntityRecord(tenant, entity_id, entity_type, parsed.static, tuple(others)), parsed


MAX_TYPES = 32


def parse_types(value: Any) -> tuple[str, ...]:
    """An entity's ``type``: a name or a non-empty list of names (NGSI-LD 4.16), in order,
    each once."""
    names = value if isinstance(value, list) and value else [value]
    if len(names) > MAX_TYPES:
        raise BadRequestError(f"an entity may have at most {MAX_TYPES} types")
    for name in names:
        check_name("type", name)
        if name in KEYWORD_ALIASES:
            raise BadRequestError(f"type {name!r} is a JSON-LD keyword, not an entity type")
    return tuple(dict.fromkeys(names))


def parse_temporal_attributes(
    tenant: str,
    entity_id: str,
    entity_type: str,
    body: Mapping[str, Any],
    clock: WriteClock,
    current: Mapping[str, Any] | None = None,
) -> ParsedAttributes:
    """Temporal representation: each attribute is one instance or a list of them; every
    Property instance needs its ``observedAt``. All go to the history; an attribute with
    an instance that is no reading becomes current as a whole: the newest instance of each
    datasetId over what ``current`` (the entity as rendered) holds."""
    static: dict[str, Any] = {}
    readings: list[Reading] = []
    kept: list[KeptInstance] = []
    for name, given in body.items():
        if name in RESERVED:
            continue
        if name == "scope":  # no attribute: the entity's scopes, kept as given
            static[name] = _scope(given)
            continue
        newest: dict[str | None, tuple[str, Any]] = {}
        for instance in given if isinstance(given, list) else [given]:
            if not isinstance(instance, dict):
                raise BadRequestError(f"every instance of {name!r:.80} must be an object")
            is_property = instance.get("type") == "Property"
            if is_property and "observedAt" not in instance:
                raise BadRequestError(f"every instance of {name!r:.80} needs observedAt")
            parsed = parse_attributes(tenant, entity_id, entity_type, {name: instance}, clock)
            readings.extend(parsed.readings)
            kept.extend(parsed.kept)
            at = parsed.kept[-1].observed_at if parsed.kept else parsed.readings[-1].observed_at
            dataset_id = instance.get("datasetId")
            if dataset_id not in newest or at.isoformat() >= newest[dataset_id][0]:
                newest[dataset_id] = (at.isoformat(), instance)
        if any(k.attr == name for k in kept):
            latest = [instance for _, instance in newest.values()]
            static[name] = combine((current or {}).get(name), latest, "replace").attribute
    return ParsedAttributes(static, tuple(readings), tuple(kept))
