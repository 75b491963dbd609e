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


def render_attribute(attr: AttributeState) -> dict[str, Any]:
    prop = _property(attr.value, attr.value_type, attr.observed_at, attr.unit_code)
    if not attr.observed_at_stated:
        del prop["observedAt"]
    return prop


def entity_types(state: EntityState) -> str | list[str]:
    """The entity's ``type`` member: one name, or the list of an entity of several types."""
    return [state.entity_type, *state.other_types] if state.other_types else state.entity_type


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
    state: EntityState, with_context: bool, sys_attrs: bool = False
) -> dict[str, Any]:
    """Normalized NGSI-LD entity: static attributes plus the latest value of each attribute
    (``sys_attrs``: the kept attributes' createdAt and modifiedAt too)."""
    doc: dict[str, Any] = {"id": state.entity_id, "type": entity_types(state)}
    for name, attribute in state.static.items():
        doc[name] = attribute if sys_attrs else without_system_attributes(attribute)
    for attr in state.attributes:
        doc[attr.name] = render_attribute(attr)
    if with_context:
        doc["@context"] = CORE_CONTEXT
    return doc


def render_temporal(
    state: EntityState,
    histories: list[AttributeHistory],
    kept: list[KeptInstance],
    with_context: bool,
) -> dict[str, Any]:
    """Temporal representation: each attribute is the list of its instances, oldest first:
    the readings' and the kept instances' (GeoProperties, Relationships...) together."""
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
        timed.setdefault(instance.attr, []).append((instance.observed_at, rendered))
    for name, found in timed.items():
        doc[name] = [i for _, i in sorted(found, key=lambda pair: pair[0])]
    if with_context:
        doc["@context"] = CORE_CONTEXT
    return doc


def simplified_temporal(doc: dict[str, Any]) -> dict[str, Any]:
    """``options=temporalValues``: each attribute as [value, observedAt] pairs (5.2.36)."""
    out: dict[str, Any] = {}
    for name, value in doc.items():
        if not isinstance(value, list):
            out[name] = value
            continue
        found = [i for i in value if isinstance(i, dict)]
        kind = found[0].get("type", "Property") if found else "Property"
        member = VALUE_MEMBER.get(kind, "value")
        # a Property's or Relationship's value as is; the others' in an object naming the
        # member ({"languageMap": {...}}), as NGSI-LD 4.5.9 shows them
        wrapped = member not in ("value", "object")
        pairs = [[{member: i.get(member)} if wrapped else i.get(member), i.get("observedAt")]
                 for i in found]  # fmt: skip
        out[name] = {"type": kind, "values" if member == "value" else f"{member}s": pairs}
    return out


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
