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
    deleted: bool = False,
) -> History:
    """The history asked for, cut to ``cap`` instances per attribute (one more is read to
    know whether there were more); ``deleted``: the records of deletions (readings have
    none)."""
    newest = last_n is not None
    ask: tuple[int | None, int | None] = (cap + 1, None) if newest else (None, cap + 1)
    if last_n is not None and last_n <= cap:
        ask = (last_n, None)  # no more than asked for: never cut
    readings = [] if deleted else await store.history(tenant, entity_id, attrs, window, *ask)
    kept = await store.instance_history(tenant, entity_id, attrs, window, *ask, deleted)
    truncated = any(len(h.times) > cap for h in readings) or _over(kept, cap)
    if not truncated:
        return History(readings, kept, truncated=False)
    return _cut_at(readings, kept, _limit(readings, kept, cap, newest), newest)


def _over(kept: list[KeptInstance], cap: int) -> bool:
    counts: dict[str, int] = {}
    for instance in kept:
        counts[instance.attr] = counts.get(instance.attr, 0) + 1
    return any(n > cap for n in counts.values())


def _limit(
    readings: list[AttributeHistory], kept: list[KeptInstance], cap: int, newest: bool
) -> datetime:
    """Where the answer stops: at the last instance an attribute over the cap keeps (the
    earliest such time; with lastN, counting back, the latest). Every attribute is cut
    there, so the range answered holds all of each one's instances in it (6.3.10)."""
    series = [list(h.times) for h in readings]  # each oldest first, as read
    by_attr: dict[str, list[datetime]] = {}
    for instance in kept:
        by_attr.setdefault(instance.attr, []).append(instance.observed_at)
    series += by_attr.values()
    ends = [times[-cap] if newest else times[cap - 1] for times in series if len(times) > cap]
    return max(ends) if newest else min(ends)


def _cut_at(
    readings: list[AttributeHistory], kept: list[KeptInstance], limit: datetime, newest: bool
) -> History:
    def inside(moment: datetime) -> bool:
        return moment >= limit if newest else moment <= limit

    cut = []
    for h in readings:
        pairs = [(t, v) for t, v in zip(h.times, h.values, strict=True) if inside(t)]
        cut.append(replace(h, times=tuple(t for t, _ in pairs), values=tuple(v for _, v in pairs)))
    kept_in = [k for k in kept if inside(k.observed_at)]
    # an attribute with nothing left in the range is still answered, empty
    gone = {k.attr for k in kept} - {k.attr for k in kept_in} - {h.name for h in readings}
    cut += [AttributeHistory(name, None, (), ()) for name in sorted(gone)]
    return History(cut, kept_in, truncated=True)


def content_range(
    histories: list[History], last_n: int | None, window: TimeRange | None = None
) -> str | None:
    """``date-time <from>-<to>/<lastN or *>`` over the instances answered (6.3.10), when
    some history was cut (None otherwise); with ``lastN`` the range runs from the newest
    back. It starts where the ``window`` asked for does, if bounded on that side."""
    if not any(h.truncated for h in histories):
        return None
    times: list[datetime] = [t for h in histories for r in h.readings for t in r.times]
    times += [k.observed_at for h in histories for k in h.kept]
    if not times:
        return "date-time */*"
    first, last = min(times), max(times)
    if last_n is not None:
        start, end = (window.end if window and window.end else last), first
    else:
        start, end = (window.start if window and window.start else first), last
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
