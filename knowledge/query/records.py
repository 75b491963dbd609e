"""Read-side records the knowledge layer returns, and the store interface (`KnowledgeStore`)
that the layers above read and write through."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from acquisition import Batch, DeadLetter, EntityRecord, Reading
from knowledge.aggregate.partials import Partials
from knowledge.postgres.ingest_stats import LAG_EDGES_S
from knowledge.query.filters import EntityQuery


@dataclass(frozen=True, slots=True)
class AttributeState:
    """The latest value of one attribute."""

    name: str
    value: float | str
    value_type: str
    observed_at: datetime
    unit_code: str | None
    observed_at_stated: bool = True  # False: written without observedAt, which is not shown
    created_at: datetime | None = None  # system times (NGSI-LD 4.8): first written,
    modified_at: datetime | None = None  # and last changed


@dataclass(frozen=True, slots=True)
class EntityState:
    """Current state of an entity: static attributes plus the latest dynamic ones."""

    entity_id: str
    entity_type: str
    static: Mapping[str, Any]
    attributes: tuple[AttributeState, ...]
    modified_at: datetime
    created_at: datetime | None = None
    other_types: tuple[str, ...] = ()  # types beside entity_type, in the order given

    @property
    def types(self) -> tuple[str, ...]:
        return (self.entity_type, *self.other_types)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open interval [start, end); either side may be open-ended."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class AttributeHistory:
    """One attribute's values over time, oldest first."""

    name: str
    unit_code: str | None
    times: tuple[datetime, ...]
    values: tuple[float | str, ...]


@dataclass(frozen=True, slots=True)
class KeptInstance:
    """One instance of an attribute that is no reading (a GeoProperty, a Relationship, an
    instance with a datasetId...), whole as written, at its observation or write time."""

    attr: str
    observed_at: datetime
    dataset_id: str | None
    instance: Mapping[str, Any]
    deleted: bool = False  # the record of a deletion; observed_at is its deletedAt


@dataclass(frozen=True, slots=True)
class NumericSeries:
    """Numeric values of one attribute of one entity, as arrays for vectorised work."""

    entity_id: str
    times: npt.NDArray[np.datetime64]
    values: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One observation in an open-data export."""

    entity_id: str
    observed_at: datetime
    attr: str
    value: float | str
    unit_code: str | None


@dataclass(frozen=True, slots=True)
class AttributeUse:
    """How many entities of a type carry an attribute, and as what NGSI-LD attribute type."""

    entity_type: str
    attr: str
    attribute_type: str
    entities: int


@dataclass(frozen=True, slots=True)
class LatencyCounts:
    """Readings stored in a window and how many fell in each latency bucket."""

    readings: int
    buckets: tuple[int, ...]

    def within(self, seconds: float) -> int:
        """Readings stored within ``seconds`` (rounded down to a bucket edge)."""
        edges = [i for i, edge in enumerate(LAG_EDGES_S) if edge <= seconds]
        return sum(self.buckets[: edges[-1] + 1]) if edges else 0


Kept = tuple[KeptInstance, ...]


class KnowledgeStore(Protocol):
    """What the upper layers may ask of a store; every backend implements it."""

    async def write_batch(self, batch: Batch) -> None: ...

    async def create_entity(
        self, entity: EntityRecord, readings: tuple[Reading, ...], kept: Kept = ()
    ) -> None: ...

    async def append_attributes(
        self,
        tenant: str,
        entity_id: str,
        static: Mapping[str, Any],
        readings: tuple[Reading, ...],
        replace: bool = False,
        other_types: tuple[str, ...] | None = None,
        kept: Kept = (),
    ) -> None: ...

    async def delete_entity(self, tenant: str, entity_id: str) -> None: ...

    async def ingest_latency(self, tenant: str, window: TimeRange) -> LatencyCounts: ...

    async def readings_per_entity(self, tenant: str, window: TimeRange) -> dict[str, int]: ...

    async def delete_instance(
        self, tenant: str, entity_id: str, attr: str, observed_at: datetime
    ) -> None: ...

    async def delete_attribute(
        self,
        tenant: str,
        entity_id: str,
        attr: str,
        with_history: bool = False,
        deleted: Kept = (),  # the records of the deletion kept in the history (soft deletion)
    ) -> None: ...

    async def list_entities(
        self,
        tenant: str,
        entity_type: str | None,
        limit: int,
        offset: int,
        query: EntityQuery | None = None,
    ) -> list[EntityState]: ...

    async def count_entities(
        self, tenant: str, entity_type: str | None, query: EntityQuery | None = None
    ) -> int: ...

    async def entity_types(self, tenant: str) -> dict[str, int]: ...

    async def attribute_uses(self, tenant: str) -> list[AttributeUse]: ...

    async def get_entity(self, tenant: str, entity_id: str) -> EntityState: ...

    async def history(
        self,
        tenant: str,
        entity_id: str,
        attrs: list[str] | None,
        window: TimeRange,
        last_n: int | None = None,
        first_n: int | None = None,  # without last_n: the oldest first_n per attribute
    ) -> list[AttributeHistory]: ...

    async def modify_instance(
        self,
        tenant: str,
        entity_id: str,
        attr: str,
        observed_at: datetime,
        fragment: Mapping[str, Any],
    ) -> None: ...

    async def delete_instance_history(
        self, tenant: str, entity_id: str, attr: str, dataset_id: str | None
    ) -> int: ...

    async def instance_history(
        self,
        tenant: str,
        entity_id: str,
        attrs: list[str] | None,
        window: TimeRange,
        last_n: int | None = None,
        first_n: int | None = None,
        deleted: bool = False,  # the records of deletions instead of the instances
    ) -> list[KeptInstance]: ...

    async def numeric_series(
        self, tenant: str, entity_type: str, attr: str, window: TimeRange
    ) -> list[NumericSeries]: ...

    async def aggregate(
        self,
        tenant: str,
        attr: str,
        period_s: int,
        window: TimeRange,
        entity_type: str | None = None,
        entity_ids: list[str] | None = None,
        percentiles: bool = False,
        origin: datetime | Literal["first"] | None = None,  # periods' start; None: the epoch
    ) -> SeriesAggregates: ...

    def export_rows(
        self, tenant: str, entity_type: str, attrs: list[str] | None, window: TimeRange
    ) -> AsyncIterator[ExportRow]: ...

    async def distinct_counts(
        self,
        tenant: str,
        entity_id: str,
        attr: str,
        period_s: int | None,
        window: TimeRange,
    ) -> list[tuple[datetime, int]]: ...

    async def dead_letters(self, tenant: str | None, limit: int) -> list[DeadLetter]: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SeriesAggregates:
    """Partial aggregates of one attribute per entity and period.

    ``partials.series`` indexes ``entity_ids`` (and ``energetic``: whether the
    attribute is in dB there, so its average must be energetic).
    ``resolution_s`` is the roll-up read, or None when raw rows were summarised.
    """

    attr: str
    period_s: int
    entity_ids: tuple[str, ...]
    energetic: tuple[bool, ...]
    partials: Partials
    resolution_s: int | None
