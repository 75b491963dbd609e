"""The discovery documents (NGSI-LD 5.2.24-5.2.27), built from a store's attribute uses.

Pure: names are the stored ones, ``iri`` expands a name with the platform's context (the
JSON-LD layer renames them into the requester's terms on the way out).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from knowledge import AttributeUse

Expand = Callable[[str], str]


def _by(uses: list[AttributeUse], key: str) -> dict[str, list[AttributeUse]]:
    grouped: dict[str, list[AttributeUse]] = defaultdict(list)
    for use in uses:
        grouped[getattr(use, key)].append(use)
    return grouped


def _kinds(uses: list[AttributeUse]) -> list[str]:
    return sorted({u.attribute_type for u in uses})


def type_list(types: Mapping[str, int]) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}", "type": "EntityTypeList",
            "typeList": sorted(types)}  # fmt: skip


def type_details(
    types: Mapping[str, int], uses: list[AttributeUse], iri: Expand
) -> list[dict[str, Any]]:
    per_type = _by(uses, "entity_type")
    return [
        {"id": iri(name), "type": "EntityType", "typeName": name,
         "attributeNames": sorted({u.attr for u in per_type.get(name, [])})}
        for name in sorted(types)
    ]  # fmt: skip


def type_info(name: str, entities: int, uses: list[AttributeUse], iri: Expand) -> dict[str, Any]:
    mine = _by([u for u in uses if u.entity_type == name], "attr")
    return {
        "id": iri(name),
        "type": "EntityTypeInfo",
        "typeName": name,
        "entityCount": entities,
        "attributeDetails": [_detail(attr, found, iri) for attr, found in sorted(mine.items())],
    }


def _detail(attr: str, found: list[AttributeUse], iri: Expand) -> dict[str, Any]:
    return {"id": iri(attr), "type": "Attribute", "attributeName": attr,
            "attributeTypes": _kinds(found)}  # fmt: skip


def attribute_list(uses: list[AttributeUse]) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}", "type": "AttributeList",
            "attributeList": sorted({u.attr for u in uses})}  # fmt: skip


def attribute_details(uses: list[AttributeUse], iri: Expand) -> list[dict[str, Any]]:
    return [attribute_info(attr, found, iri, count=False)
            for attr, found in sorted(_by(uses, "attr").items())]  # fmt: skip


def attribute_info(
    attr: str, found: list[AttributeUse], iri: Expand, count: bool = True
) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": iri(attr), "type": "Attribute", "attributeName": attr}
    if count:
        doc["attributeCount"] = sum(u.entities for u in found)
        doc["attributeTypes"] = _kinds(found)
    doc["typeNames"] = sorted({u.entity_type for u in found})
    return doc
