"""Which history a temporal retrieval reads, by its ``timeproperty`` (NGSI-LD 5.7.3):
``observedAt`` (the default) and ``deletedAt`` are kept as the rows' times;
``createdAt`` and ``modifiedAt`` are the system times of the instances of attributes kept
whole (``entities.body.stamped``), read from them. The past instances of readings have no
system times (their observedAt says when; only the current value has), so such an answer
holds none of them."""

from __future__ import annotations

from datetime import datetime

from interoperability.temporal.bounds import History, bounded_history
from knowledge import KeptInstance, KnowledgeStore, TimeRange

SYSTEM_TIMES = ("createdAt", "modifiedAt")


async def history_by(
    time_property: str,
    store: KnowledgeStore,
    tenant: str,
    entity_id: str,
    attrs: list[str] | None,
    window: TimeRange,
    last_n: int | None,
    cap: int,
) -> History:
    """The instances whose ``time_property`` falls in ``window``, at most ``cap`` (or the
    last ``last_n``) per attribute."""
    if time_property not in SYSTEM_TIMES:
        deleted = time_property == "deletedAt"
        return await bounded_history(store, tenant, entity_id, attrs, window, last_n, cap, deleted)
    every = await store.instance_history(tenant, entity_id, attrs, TimeRange())
    timed = [(at, k) for k in every if (at := system_time(k, time_property)) is not None]
    by_attr: dict[str, list[KeptInstance]] = {}
    for _, instance in sorted((p for p in timed if _inside(p[0], window)), key=lambda p: p[0]):
        by_attr.setdefault(instance.attr, []).append(instance)
    keep = cap if last_n is None else min(last_n, cap)
    truncated = any(len(found) > cap for found in by_attr.values()) and keep == cap
    cut = slice(0, keep) if last_n is None else slice(-keep, None)
    return History([], [i for found in by_attr.values() for i in found[cut]], truncated)


def system_time(instance: KeptInstance, time_property: str) -> datetime | None:
    """The instance's createdAt or modifiedAt, None if it has none (or none that reads as
    a time with its zone)."""
    text = instance.instance.get(time_property)
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _inside(moment: datetime, window: TimeRange) -> bool:
    return (window.start is None or moment >= window.start) and (
        window.end is None or moment < window.end
    )
