"""How much history one temporal answer holds (NGSI-LD 6.3.10): at most
``CIUDAD_TEMPORAL_MAX_INSTANCES`` instances per attribute. Beyond, the answer is 206 with
a ``Content-Range`` naming the times it covers: the oldest ones of the window, or with
``lastN`` the newest ones (the range then runs backwards, newest first)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Response

from interoperability.deps import get_settings
from knowledge import AttributeHistory, KeptInstance, KnowledgeStore, TimeRange
from support import Settings
from support.times import iso_utc


@dataclass(frozen=True, slots=True)
class History:
    """One entity's instances as one answer holds them."""

    readings: list[AttributeHistory]
    kept: list[KeptInstance]
    truncated: bool


async def bounded_history(
    store: KnowledgeStore,
    tenant: str,
    entity_id: str,
    attrs: list[str] | None,
    window: TimeRange,
    last_n: int | None,
    cap: int,
) -> History:
    """The history asked for, cut to ``cap`` instances per attribute (one more is read to
    know whether there were more)."""
    newest = last_n is not None
    if newest and last_n is not None and last_n <= cap:
        readings = await store.history(tenant, entity_id, attrs, window, last_n)
        kept = await store.instance_history(tenant, entity_id, attrs, window, last_n)
        return History(readings, kept, truncated=False)
    ask = (cap + 1, None) if newest else (None, cap + 1)
    readings = await store.history(tenant, entity_id, attrs, window, *ask)
    kept = await store.instance_history(tenant, entity_id, attrs, window, *ask)
    truncated = any(len(h.times) > cap for h in readings) or _over(kept, cap)
    if not truncated:
        return History(readings, kept, truncated=False)
    cut = slice(-cap, None) if newest else slice(0, cap)
    readings = [replace(h, times=h.times[cut], values=h.values[cut]) for h in readings]
    return History(readings, _cut(kept, cut), truncated=True)


def _over(kept: list[KeptInstance], cap: int) -> bool:
    counts: dict[str, int] = {}
    for instance in kept:
        counts[instance.attr] = counts.get(instance.attr, 0) + 1
    return any(n > cap for n in counts.values())


def _cut(kept: list[KeptInstance], cut: slice) -> list[KeptInstance]:
    by_attr: dict[str, list[KeptInstance]] = {}
    for instance in kept:
        by_attr.setdefault(instance.attr, []).append(instance)
    return [i for instances in by_attr.values() for i in instances[cut]]


def content_range(histories: list[History], last_n: int | None) -> str | None:
    """``date-time <from>-<to>/<lastN or *>`` over the instances answered (6.3.10), when
    some history was cut (None otherwise); with ``lastN`` the range runs from the newest
    back."""
    if not any(h.truncated for h in histories):
        return None
    times: list[datetime] = [t for h in histories for r in h.readings for t in r.times]
    times += [k.observed_at for h in histories for k in h.kept]
    if not times:
        return "date-time */*"
    first, last = min(times), max(times)
    start, end = (last, first) if last_n is not None else (first, last)
    return f"date-time {iso_utc(start)}-{iso_utc(end)}/{last_n or '*'}"


def partial(answer: Response, cut: str | None) -> Response:
    """206 with the Content-Range of what was answered, when some history was cut."""
    if cut is not None:
        answer.status_code = 206
        answer.headers["Content-Range"] = cut
    return answer


def max_instances(settings: Annotated[Settings, Depends(get_settings)]) -> int:
    return settings.temporal_max_instances


MaxInstancesDep = Annotated[int, Depends(max_instances)]
