"""What a notification shows of the attributes a change touched: a reading's new value, an
attribute deleted as NGSI-LD Null, and with ``showChanges`` (NGSI-LD 1.8, 5.2.14) the value
each one held before (``previousValue``, ``previousObject``, ``previousLanguageMap``...).
The previous values come from the change feed, which read them in the change's transaction.
Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from interoperability.entities.attribute_merge import NULL
from interoperability.entities.instances import instances
from interoperability.ngsild import VALUE_MEMBER, render_attribute
from knowledge import AttributeState, ChangedValue
from support.times import iso_utc

ENTITY_DELETED = "entityDeleted"


def previous_member(member: str) -> str:
    """``value`` -> ``previousValue``, ``languageMap`` -> ``previousLanguageMap``..."""
    return f"previous{member[0].upper()}{member[1:]}"


def deleted_attribute(kind: str, whole_entity: bool = False) -> dict[str, Any]:
    """A deleted attribute as a notification shows it: its type with NGSI-LD Null (4.5.0;
    a LanguageProperty's as a map, a list's in a list). The attributes of a deleted entity
    hold plain NGSI-LD Null whatever their type."""
    member = VALUE_MEMBER.get(kind, "value")
    null: Any = NULL
    if whole_entity:
        pass
    elif member == "languageMap":
        null = {"@none": NULL}
    elif member in ("valueList", "objectList"):
        null = [NULL]
    return {"type": kind if kind in VALUE_MEMBER else "Property", member: null}


def reading(name: str, changed: ChangedValue, sys_attrs: bool) -> dict[str, Any] | None:
    """The value a reading's change made current, as the entity shows it (None: not a
    reading: the entity's state says what the attribute is)."""
    if changed.value is None or changed.observed_at is None:
        return None
    return render_attribute(
        AttributeState(name, changed.value, changed.value_type or "", changed.observed_at,
                       changed.unit_code, changed.stated, changed.created_at,
                       changed.modified_at),
        sys_attrs,
    )  # fmt: skip


def gone(
    changed: ChangedValue, entity_event: str | None, changed_at: datetime, sys_attrs: bool
) -> dict[str, Any]:
    """A deleted attribute; with ``sysAttrs`` its deletedAt, and the times it had if kept."""
    shown = deleted_attribute(changed.attribute_type or "Property", entity_event == ENTITY_DELETED)
    if sys_attrs:
        before = changed.previous if isinstance(changed.previous, dict) else {}
        times = {k: before[k] for k in ("createdAt", "modifiedAt") if k in before}
        shown |= times | {"deletedAt": iso_utc(changed_at)}
    return shown


def with_previous(attribute: Any, previous: Any) -> Any:
    """``attribute`` (an instance or a list of them) with, in each instance whose datasetId
    held a value before, that value under its previous member."""
    if previous is None:
        return attribute
    if isinstance(previous, dict | list):
        before = {i.get("datasetId"): i for i in instances(previous)}
    else:  # a reading's value: numbers are stored as doubles (4 was written, 4 is shown)
        if isinstance(previous, float) and previous.is_integer() and abs(previous) < 2**53:
            previous = int(previous)
        before = {None: {"type": "Property", "value": previous}}
    if isinstance(attribute, list):  # the write touched some instances: those that differ
        return [_instance_with_previous(i, before, only_changed=True) for i in attribute]
    return _instance_with_previous(attribute, before)


def _instance_with_previous(
    instance: Any, before: dict[Any, dict[str, Any]], only_changed: bool = False
) -> Any:
    if not isinstance(instance, dict):
        return instance
    old = before.get(instance.get("datasetId"))
    if old is None:
        return instance
    member = VALUE_MEMBER.get(str(old.get("type")), "value")
    if member not in old or (only_changed and instance.get(member) == old[member]):
        return instance
    return instance | {previous_member(member): old[member]}


def with_deleted_instances(
    remaining: Any, changed: ChangedValue, changed_at: datetime, sys_attrs: bool
) -> list[Any]:
    """An attribute some instances of which were deleted (by datasetId): those left, then
    each one deleted as NGSI-LD Null of its type, with its datasetId."""
    left = instances(remaining)
    kept_ids = {i.get("datasetId") for i in left}
    nulls = []
    for old in instances(changed.previous):
        if (dataset_id := old.get("datasetId")) in kept_ids:
            continue
        kind = str(old.get("type", "Property"))
        instance = ChangedValue(None, None, None, None, "attributeDeleted", kind, True, old)
        null = gone(instance, None, changed_at, sys_attrs)
        nulls.append(null if dataset_id is None else null | {"datasetId": dataset_id})
    return [*left, *nulls]
