"""Several instances of one attribute, told apart by ``datasetId`` (NGSI-LD 4.5.5), as the
entity keeps them: one instance as an object, several as a list. Pure."""

from __future__ import annotations

from typing import Any

Instance = dict[str, Any]


def instances(attribute: Any) -> list[Instance]:
    items = attribute if isinstance(attribute, list) else [attribute]
    return [i for i in items if isinstance(i, dict)]


def without_instance(attribute: Any, dataset_id: str | None) -> tuple[bool, Any]:
    """(whether an instance with that datasetId was there, what remains: an object, a list,
    or None when nothing does). No datasetId names the default instance (none given)."""
    found = instances(attribute)
    remaining = [i for i in found if i.get("datasetId") != dataset_id]
    if len(remaining) == len(found):
        return False, attribute
    if not remaining:
        return True, None
    return True, remaining[0] if len(remaining) == 1 else remaining


def merged_scope(current: Any, added: Any) -> list[str]:
    """``scope`` appended without overwriting: the union, in order."""
    out: list[str] = []
    for value in (current, added):
        for scope in value if isinstance(value, list) else [value] if value else []:
            if scope not in out:
                out.append(scope)
    return out
