"""Writes of attributes to an existing entity, instance by instance: append, update, merge
(and their batch forms). Reads the entity once, combines each named attribute with what it
holds (``attribute_merge``), stores the result and removes what NGSI-LD Null removed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from interoperability.deps import BadRequestError
from interoperability.entities.attribute_merge import Mode, combine, is_null
from interoperability.entities.body import RESERVED, parse_attributes, parse_types
from interoperability.entities.instances import instances, merged_scope
from interoperability.entities.soft_delete import deletion_records
from interoperability.entities.write_clock import WriteClock
from interoperability.ngsild import render_entity
from knowledge import EntityState, KnowledgeStore


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    updated: tuple[str, ...]
    not_updated: tuple[tuple[str, str], ...]  # (attribute name, why)


def _added_types(state: EntityState, body: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The entity's types beside its first once the body's are added (NGSI-LD 4.16: a
    write adds types, never removes one), or None when they stay as they are."""
    if body.get("id", state.entity_id) != state.entity_id:
        raise BadRequestError("the body's id differs from the entity's")
    if "type" not in body:
        return None
    known = (state.entity_type, *state.other_types)
    added = tuple(t for t in parse_types(body["type"]) if t not in known)
    return (*state.other_types, *added) if added else None


def _may_be_reading(result: Any, given: Any) -> bool:
    """Only a value this write gives becomes a reading (a new observation); an instance the
    write leaves alone stays as kept, so its old time is not written again."""
    new_default = any(i.get("datasetId") is None and not is_null(i) for i in instances(given))
    return isinstance(result, dict) and "datasetId" not in result and new_default


def _scope(current: Any, given: Any, mode: Mode) -> Any:
    if is_null(given):
        return None
    return merged_scope(current, given) if mode == "keep" else given


@dataclass(slots=True)
class _Plan:
    written: dict[str, Any]
    kept_static: set[str]
    removed: list[str]
    skipped: list[tuple[str, str]]
    given: dict[str, set[str | None]]  # per attribute, the datasetIds this write sets


def _plan(
    current: Mapping[str, Any], body: Mapping[str, Any], mode: Mode, scope_only_if_present: bool
) -> _Plan:
    plan = _Plan({}, set(), [], [], {})
    for name, given in body.items():
        if name in RESERVED:
            continue
        if name == "scope":
            if scope_only_if_present and "scope" not in current:
                plan.skipped.append(("scope", "the entity has no scope to update"))
                continue
            result = _scope(current.get("scope"), given, mode)
            touched = True
        else:
            combined = combine(current.get(name), given, mode)
            result, touched = combined.attribute, combined.touched
            plan.skipped += [(name, "that instance exists (noOverwrite)") for _ in combined.skipped]
            plan.given[name] = {
                i.get("datasetId") for i in instances(given) if not is_null(i)
            } - set(combined.skipped)
            if result is not None and not _may_be_reading(result, given):
                plan.kept_static.add(name)
        if not touched:
            continue
        if result is None:
            if name in current:
                plan.removed.append(name)
        else:
            plan.written[name] = result
    return plan


async def write_attributes(
    store: KnowledgeStore,
    tenant: str,
    entity_id: str,
    body: Mapping[str, Any],
    clock: WriteClock,
    mode: Mode,
    scope_only_if_present: bool = False,
    state: EntityState | None = None,
) -> WriteOutcome:
    """NotFoundError if the entity does not exist; BadRequestError for a bad fragment.
    ``state``: the entity as the caller has just read it (not read again)."""
    state = state or await store.get_entity(tenant, entity_id)
    other_types = _added_types(state, body)
    current = render_entity(state, with_context=False, sys_attrs=True, readings_too=False)
    plan = _plan(current, body, mode, scope_only_if_present)
    parsed = parse_attributes(
        tenant, entity_id, state.entity_type, plan.written, clock, frozenset(plan.kept_static)
    )
    if plan.written or other_types is not None:
        await store.append_attributes(
            tenant, entity_id, parsed.static, parsed.readings, other_types=other_types,
            kept=parsed.kept_of(plan.given),
        )  # fmt: skip
    for name in plan.removed:
        gone = deletion_records(name, current.get(name), None, clock.now)
        await store.delete_attribute(tenant, entity_id, name, deleted=gone)
    return WriteOutcome(tuple(sorted({*plan.written, *plan.removed})), tuple(plan.skipped))
