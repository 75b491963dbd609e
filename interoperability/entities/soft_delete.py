"""Soft deletion (NGSI-LD 1.8, 4.5.7 and 5.7.3): an attribute's deletion stays in its
temporal evolution as an instance whose value is NGSI-LD Null and whose time is its
``deletedAt``, retrieved with ``timeproperty=deletedAt``. Pure: the routes store these
records with the deletion."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from interoperability.entities.attribute_merge import NULL
from interoperability.entities.instances import instances
from interoperability.ngsild import VALUE_MEMBER
from knowledge import KeptInstance
from support.times import iso_utc

# NGSI-LD Null per value member (4.5.0, as attribute_merge.is_null reads it): a list
# holds it, a LanguageProperty maps it.
_NULLS: dict[str, Any] = {"languageMap": {"@none": NULL}, "valueList": [NULL], "objectList": [NULL]}


def null_instance(kind: str, deleted_at: datetime) -> dict[str, Any]:
    """The instance stating a deletion of an attribute of type ``kind``."""
    member = VALUE_MEMBER.get(kind, "value")
    return {"type": kind, member: _NULLS.get(member, NULL), "deletedAt": iso_utc(deleted_at)}


def deletion_records(
    name: str, attribute: Any, dataset_ids: Iterable[str | None] | None, deleted_at: datetime
) -> tuple[KeptInstance, ...]:
    """One record per instance of ``attribute`` (as the entity renders it) that goes: those
    of ``dataset_ids``, or all of them (None). ``scope`` goes whole, an empty list of
    scopes being its NGSI-LD Null."""
    if name == "scope":
        gone = {"type": "Property", "value": [], "deletedAt": iso_utc(deleted_at)}
        return (KeptInstance(name, deleted_at, None, gone, deleted=True),)
    chosen = None if dataset_ids is None else set(dataset_ids)
    records = []
    for instance in instances(attribute):
        dataset_id = instance.get("datasetId")
        if chosen is not None and dataset_id not in chosen:
            continue
        gone = null_instance(str(instance.get("type", "Property")), deleted_at)
        if dataset_id is not None:
            gone["datasetId"] = dataset_id
        records.append(KeptInstance(name, deleted_at, dataset_id, gone, deleted=True))
    return tuple(records)
