"""Frame counters and uplink ids: what a network server sends twice changes nothing.

Per device the tracker remembers the session (devAddr or session key id) and
the highest frame counter accepted in it, plus a bounded window of recent
uplink ids (ChirpStack's ``deduplicationId``):

- the same uplink id again (a second integration, a broker redelivery): duplicate;
- a counter at or below the last one in the same session (a replay): refused;
- a counter below the last one in a new session, or after a join (the device
  rejoined or rebooted): a counter reset, accepted and counted.

The state is in memory, per gateway process: after a restart the first uplink
of each device starts afresh, and the store's idempotent writes (one row per
entity, attribute and observation time) still keep a redelivered uplink from
counting twice.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from acquisition.lorawan.events import Uplink

REMEMBERED_UPLINK_IDS = 65536  # oldest forgotten first: ~a day of 1-minute uplinks of 45 devices


class Verdict(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    REPLAY = "replay"
    COUNTER_RESET = "counter_reset"


@dataclass(slots=True)
class _Last:
    session: str
    f_cnt: int
    joined: bool = False  # a join since this frame: the next frame may start a new count


class FrameTracker:
    def __init__(
        self,
        remembered_ids: int = REMEMBERED_UPLINK_IDS,
        on_count: Callable[[str], None] | None = None,
    ) -> None:
        self._on_count = on_count  # e.g. a metric's increment, per verdict
        self._last: dict[str, _Last] = {}
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._remembered = remembered_ids
        self.counts: Counter[Verdict] = Counter()

    def judge(self, device_key: str, uplink: Uplink) -> Verdict:
        """What this uplink is, without remembering it (``accept`` does that)."""
        if (device_key, uplink.uplink_id) in self._seen:
            return Verdict.DUPLICATE
        last = self._last.get(device_key)
        if last is None or (uplink.f_cnt > last.f_cnt and uplink.session == last.session):
            return Verdict.NEW
        if last.joined or uplink.session != last.session:
            return Verdict.COUNTER_RESET if uplink.f_cnt <= last.f_cnt else Verdict.NEW
        return Verdict.REPLAY

    def accept(self, device_key: str, uplink: Uplink) -> None:
        self._last[device_key] = _Last(uplink.session, uplink.f_cnt)
        self._seen[(device_key, uplink.uplink_id)] = None
        while len(self._seen) > self._remembered:
            self._seen.popitem(last=False)

    def joined(self, device_key: str) -> None:
        last = self._last.get(device_key)
        if last is not None:
            last.joined = True

    def count(self, verdict: Verdict) -> None:
        self.counts[verdict] += 1
        if self._on_count is not None:
            self._on_count(verdict.value)
