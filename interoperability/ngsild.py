"""Rendering of knowledge-layer records as NGSI-LD (normalized and temporal) documents."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from knowledge import AttributeHistory, AttributeState, EntityState, KeptInstance
from support.times import from_epoch_us, iso_utc, to_epoch_us

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
LINK_HEADER = (
    f'<{CORE_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)
ERROR_TYPE_BASE = "https://uri.etsi.org/ngsi-ld/errors/"
INSTANCE_PREFIX = "urn:ngsi-ld:Instance:"
# NGSI-LD names no error type for refused credentials: ours live under this base.
CIUDAD_ERROR_BASE = "urn:ciudad:errors:"
_CIUDAD_ERRORS = frozenset({"Unauthorized", "Forbidden", "RequestEntityTooLarge"})


def _property(
    value: Any, value_type: str, observed_at: datetime, unit: str | None
) -> dict[str, Any]:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)  # numbers are stored as doubles; 4 was written, 4 is read back
    prop: dict[str, Any] = {
        "type": "Property",
        "value": {"@type": "DateTime", "@value": value} if value_type == "DateTime" else value,
        "observedAt": iso_utc(observed_at),
    }
    if unit:
        prop["unitCode"] = unit
    return prop


def render_attribute(attr: AttributeState, sys_attrs: bool = False) -> dict[str, Any]:
    """A reading as a Property (``sys_attrs``: with its createdAt and modifiedAt)."""
    prop = _property(attr.value, attr.value_type, attr.observed_at, attr.unit_code)
    if not attr.observed_at_stated:
        del prop["observedAt"]
    if sys_attrs and attr.created_at is not None and attr.modified_at is not None:
        prop |= {"createdAt": iso_utc(attr.created_at), "modifiedAt": iso_utc(attr.modified_at)}
    return prop


def entity_types(state: EntityState) -> str | list[str]:
    """The entity's ``type`` member: one name, or the list of an entity of several types."""
    return type_member(state.types)


def type_member(types: tuple[str, ...]) -> str | list[str]:
    """``type`` as NGSI-LD shows it: one name, or the list of several (4.16)."""
    return list(types) if len(types) > 1 else types[0]


SYSTEM_ATTRIBUTES = ("createdAt", "modifiedAt")


def without_system_attributes(attribute: Any) -> Any:
    """An attribute kept whole as shown without ``options=sysAttrs``: its instances carry
    their createdAt and modifiedAt in the store."""
    if isinstance(attribute, list):
        return [without_system_attributes(i) for i in attribute]
    if isinstance(attribute, dict) and any(k in attribute for k in SYSTEM_ATTRIBUTES):
        return {k: v for k, v in attribute.items() if k not in SYSTEM_ATTRIBUTES}
    return attribute


def render_entity(
    state: EntityState, with_context: bool, sys_attrs: bool = False, readings_too: bool = True
) -> dict[str, Any]:
    """Normalized NGSI-LD entity: static attributes plus the latest value of each attribute
    (``sys_attrs``: each attribute's createdAt and modifiedAt too; those of the readings
    unless not ``readings_too``: a write merging into a reading must not keep them)."""
    doc: dict[str, Any] = {"id": state.entity_id, "type": entity_types(state)}
    for name, attribute in state.static.items():
        doc[name] = attribute if sys_attrs else without_system_attributes(attribute)
    for attr in state.attributes:
        doc[attr.name] = render_attribute(attr, sys_attrs and readings_too)
    if with_context:
        doc["@context"] = CORE_CONTEXT
    return doc


def render_temporal(
    state: EntityState,
    histories: list[AttributeHistory],
    kept: list[KeptInstance],
    with_context: bool,
    time_property: str = "observedAt",
) -> dict[str, Any]:
    """Temporal representation: each attribute is the list of its instances, oldest first:
    the readings' and the kept instances' (GeoProperties, Relationships...) together; a
    system ``time_property`` (createdAt...) the answer goes by stays in the instances."""
    doc: dict[str, Any] = {"id": state.entity_id, "type": entity_types(state)}
    timed: dict[str, list[tuple[datetime, dict[str, Any]]]] = {}
    for history in histories:
        timed[history.name] = [
            (at, _property(value, "Number" if isinstance(value, float) else "Text", at,
                           history.unit_code) | {"instanceId": instance_id(at)})
            for at, value in zip(history.times, history.values, strict=True)
        ]  # fmt: skip
    for instance in kept:
        rendered = without_system_attributes(dict(instance.instance)) | {
            "instanceId": instance_id(instance.observed_at)
        }
        if time_property in SYSTEM_ATTRIBUTES and time_property in instance.instance:
            rendered[time_property] = instance.instance[time_property]
        timed.setdefault(instance.attr, []).append((instance.observed_at, rendered))
    for name, found in timed.items():
        doc[name] = [i for _, i in sorted(found, key=lambda pair: pair[0])]
    if with_context:
        doc["@context"] = CORE_CONTEXT
    return doc


def simplified_temporal(doc: dict[str, Any], time_property: str = "observedAt") -> dict[str, Any]:
    """``options=temporalValues``: each attribute as [value, time] pairs (5.2.36), the time
    being the instances' ``time_property`` (observedAt, or deletedAt of deletions)."""
    out: dict[str, Any] = {}
    for name, value in doc.items():
        if not isinstance(value, list):
            out[name] = value
            continue
        # one simplified attribute per datasetId (NGSI-LD 4.5.5), the default one first
        groups: dict[str | None, list[dict[str, Any]]] = {None: []}
        for instance in (i for i in value if isinstance(i, dict)):
            groups.setdefault(instance.get("datasetId"), []).append(instance)
        if not groups[None] and len(groups) > 1:
            del groups[None]
        simple = [_simplified(found, dataset, time_property) for dataset, found in groups.items()]
        out[name] = simple[0] if len(simple) == 1 else simple
    return out


def _simplified(
    found: list[dict[str, Any]], dataset_id: str | None, time_property: str
) -> dict[str, Any]:
    """The instances of one dataset of an attribute, as [value, time] pairs."""
    kind = found[0].get("type", "Property") if found else "Property"
    member = VALUE_MEMBER.get(kind, "value")
    # a Property's or Relationship's value as is; the others' in an object naming the
    # member ({"languageMap": {...}}), as NGSI-LD 4.5.9 shows them
    wrapped = member not in ("value", "object")
    pairs = [[{member: i.get(member)} if wrapped else i.get(member), i.get(time_property)]
             for i in found]  # fmt: skip
    simple: dict[str, Any] = {"type": kind}
    if dataset_id is not None:
        simple["datasetId"] = dataset_id
    return simple | {"values" if member == "value" else f"{member}s": pairs}


def instance_id(observed_at: datetime) -> str:
    """An attribute instance is its observation time (one value per attribute and time)."""
    return f"{INSTANCE_PREFIX}{to_epoch_us(observed_at)}"


def instance_time(identifier: str) -> datetime | None:
    """The observation time an instance id names, or None for anything else."""
    digits = identifier.removeprefix(INSTANCE_PREFIX)
    if digits == identifier or not digits.isdigit() or len(digits) > 17:
        return None
    return from_epoch_us(int(digits))


# Each attribute type and the member that holds its value (NGSI-LD 1.8, clause 4.5).
VALUE_MEMBER = {
    "Property": "value",
    "GeoProperty": "value",
    "Relationship": "object",
    "LanguageProperty": "languageMap",
    "JsonProperty": "json",
    "VocabProperty": "vocab",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
}


def problem(error_type: str, title: str, detail: str) -> Mapping[str, str]:
    """An NGSI-LD ProblemDetails body (RFC 7807)."""
    base = CIUDAD_ERROR_BASE if error_type in _CIUDAD_ERRORS else ERROR_TYPE_BASE
    return {"type": base + error_type, "title": title, "detail": detail}
