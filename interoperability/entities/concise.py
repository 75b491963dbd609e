"""The concise representation (NGSI-LD 1.8, 4.5.3): an attribute without its ``type``,
which the member holding its value already says (``value``, ``object``, ``languageMap``...);
a Property or GeoProperty that has nothing but its value is that value. Lossless: a
Property whose value is a JSON object or array keeps ``value``, so that it cannot be read
as sub-attributes or as several instances."""

from __future__ import annotations

from typing import Any

from interoperability.ngsild import VALUE_MEMBER


def concise(attribute: Any) -> Any:
    """``attribute`` (normalized: one instance or a list of them) in concise form."""
    if isinstance(attribute, list):
        return [concise(a) for a in attribute]
    if not isinstance(attribute, dict) or attribute.get("type") not in VALUE_MEMBER:
        return attribute
    kind = attribute["type"]
    member = VALUE_MEMBER[kind]
    rest = {k: v if k == member else concise(v) for k, v in attribute.items() if k != "type"}
    if rest.keys() == {"value"}:
        value = rest["value"]
        if kind == "GeoProperty" or not isinstance(value, dict | list):
            return value
    if kind == "GeoProperty" and member not in rest:
        return attribute  # no value to say what it is: keep the type
    return rest
