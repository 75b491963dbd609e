"""Records the acquisition layer hands upward: frozen, slotted and typed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import msgspec


class ValueType(StrEnum):
    """How an attribute value is typed in NGSI-LD."""

    NUMBER = "Number"
    TEXT = "Text"
    DATETIME = "DateTime"


class Reading(msgspec.Struct, frozen=True, gc=False):
    """One attribute value of one entity at one observation time.

    A frozen msgspec record rather than a dataclass: the gateway makes several per
    measure, and a frozen dataclass costs 1.1 us to build against 0.15 us
    (docs/decisions/0009-readings-as-msgspec-structs.md). ``gc=False``: it holds only
    texts, numbers and a time, so it can form no cycle for the collector to find.
    """

    tenant: str
    entity_id: str
    entity_type: str
    attr: str
    observed_at: datetime
    value: float | str
    value_type: ValueType
    unit_code: str | None = None
    # False: the writer gave no observation time (the API's Property without observedAt);
    # observed_at is then when it was written, and entities do not show it.
    time_stated: bool = True

    @property
    def in_history(self) -> bool:
        """Numbers and texts form the time series; DateTime attributes are state only."""
        return self.value_type is not ValueType.DATETIME


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """The static part of an entity (location, relationships...) in NGSI-LD normalized form."""

    tenant: str
    entity_id: str
    entity_type: str
    static: Mapping[str, object] = field(default_factory=dict)
    other_types: tuple[str, ...] = ()  # an entity of several types (NGSI-LD 4.16)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Input that was refused, kept with the reason so nothing disappears silently."""

    received_at: datetime
    topic: str
    payload: str
    reason: str
    detail: str
    tenant: str | None = None
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """What one gateway flush writes: accepted readings, their entities and the dead letters."""

    readings: tuple[Reading, ...] = ()
    entities: tuple[EntityRecord, ...] = ()
    dead_letters: tuple[DeadLetter, ...] = ()

    def __len__(self) -> int:
        return len(self.readings) + len(self.dead_letters)
