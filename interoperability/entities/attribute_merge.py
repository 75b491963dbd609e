"""What a write does to one attribute's instances (NGSI-LD 4.5.5: instances are told apart
by ``datasetId``, none naming the default instance). Pure: the routes read the attribute as
the entity renders it, combine it with the request's fragment here, and store the result.

- ``replace`` (append 5.6.3, update 5.6.2): each given instance replaces the instance of
  its datasetId, or is added.
- ``keep`` (append with ``noOverwrite``): only instances of a new datasetId are added.
- ``merge`` (merge 5.6.17, partial update 5.6.4): the members given replace theirs, the
  others (``unitCode``, sub-attributes) stay; sub-attributes merge the same way.

In every mode an instance whose value is ``urn:ngsi-ld:null`` removes that instance
(4.5.0 "NGSI-LD Null").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from interoperability.entities.instances import Instance, instances
from interoperability.ngsild import VALUE_MEMBER

NULL = "urn:ngsi-ld:null"
Mode = Literal["replace", "keep", "merge"]


@dataclass(frozen=True, slots=True)
class Combined:
    """An attribute after a write: None when no instance is left."""

    attribute: Any
    skipped: tuple[str | None, ...]  # datasetIds of given instances ``keep`` left alone
    touched: bool  # whether any instance changed


def is_null(fragment: Any) -> bool:
    """The attribute (or sub-attribute) value is NGSI-LD Null: a null URI, a list of it, or
    a LanguageProperty's ``{"@none": null URI}``."""
    if not isinstance(fragment, dict):
        return bool(fragment == NULL)
    kind = fragment.get("type")
    members = [VALUE_MEMBER[kind]] if kind in VALUE_MEMBER else set(VALUE_MEMBER.values())
    value = next((fragment[m] for m in members if m in fragment), None)
    if isinstance(value, dict) and value and all(v == NULL for v in value.values()):
        return True
    return bool(value in (NULL, [NULL]))


def _is_attribute(fragment: Any) -> bool:
    return isinstance(fragment, dict) and fragment.get("type") in VALUE_MEMBER


def merged_instance(current: Instance, given: Instance) -> Instance:
    """``given`` merged into ``current``: a new type replaces the instance whole."""
    if given.get("type", current.get("type")) != current.get("type"):
        return dict(given)
    out = dict(current)
    if "value" in given and "observedAt" not in given:
        out.pop("observedAt", None)  # a new value is a new observation, not the old one's
    for name, member in given.items():
        if _is_attribute(member) and is_null(member):
            out.pop(name, None)
        elif _is_attribute(member) and _is_attribute(out.get(name)):
            out[name] = merged_instance(out[name], member)
        else:
            out[name] = member
    return out


def combine(current: Any, given: Any, mode: Mode) -> Combined:
    """The attribute ``current`` (None if the entity has none) after ``given`` (one instance
    or a list) is written to it in ``mode``."""
    result = instances(current) if current is not None else []
    skipped: list[str | None] = []
    touched = False
    for instance in instances(given):
        dataset_id = instance.get("datasetId")
        at = next((i for i, old in enumerate(result) if old.get("datasetId") == dataset_id), None)
        if is_null(instance):
            touched |= at is not None
            result = [old for old in result if old.get("datasetId") != dataset_id]
        elif at is None:
            result.append(dict(instance))
            touched = True
        elif mode == "keep":
            skipped.append(dataset_id)
        else:
            old = result[at]
            new = merged_instance(old, instance) if mode == "merge" else dict(instance)
            result[at] = new | ({"createdAt": old["createdAt"]} if "createdAt" in old else {})
            touched = True
    return Combined(collapsed(result), tuple(skipped), touched)


def collapsed(found: list[Instance]) -> Any:
    """How the entity keeps instances: None, one object, or a list of several."""
    if not found:
        return None
    return found[0] if len(found) == 1 else found
