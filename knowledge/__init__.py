"""Knowledge layer (conocimiento): current state, time series and aggregation."""

from acquisition import Batch, EntityRecord, Reading, ValueType
from knowledge.aggregate.aggregation import energetic_mean_db
from knowledge.aggregate.indicators import (
    EU_NOISE_PERIODS,
    DayNoise,
    day_noise,
    energy_kwh,
    noise_indicators,
    time_weighted_occupancy,
)
from knowledge.aggregate.partials import Partials, merge, per_series, rebucket, summarise
from knowledge.embedded import embedded_postgres, postmaster_pid, start_embedded_postgres
from knowledge.factory import open_read_store, open_store, resolve_dsn, retention_policy
from knowledge.postgres import MIGRATIONS
from knowledge.postgres.change_feed import (
    ANY_TYPE,
    Change,
    ChangedValue,
    set_watches,
    take_changes,
)
from knowledge.postgres.partitions import Partitioning
from knowledge.postgres.retention import RetentionPolicy, RetentionReport
from knowledge.postgres.session import prepare_session
from knowledge.postgres.store import PostgresStore, ReadingsMirror
from knowledge.query.filter_eval import matches as filter_matches
from knowledge.query.filters import (
    Comparison,
    EntityQuery,
    Filter,
    Logical,
    Operator,
    OrderKey,
    Scalar,
    ValueRange,
)
from knowledge.query.geo import GeoFilter, distance_m, parse_geometry
from knowledge.query.records import (
    AttributeHistory,
    AttributeState,
    AttributeUse,
    EntityState,
    ExportRow,
    KeptInstance,
    KnowledgeStore,
    LatencyCounts,
    NumericSeries,
    SeriesAggregates,
    TimeRange,
)

# The write side takes the records acquisition produces; upper layers name them through here.
__all__ = [
    "ANY_TYPE",
    "EU_NOISE_PERIODS",
    "MIGRATIONS",
    "AttributeHistory",
    "AttributeState",
    "AttributeUse",
    "Batch",
    "Change",
    "ChangedValue",
    "Comparison",
    "DayNoise",
    "EntityQuery",
    "EntityRecord",
    "EntityState",
    "ExportRow",
    "Filter",
    "GeoFilter",
    "KeptInstance",
    "KnowledgeStore",
    "LatencyCounts",
    "Logical",
    "NumericSeries",
    "Operator",
    "OrderKey",
    "Partials",
    "Partitioning",
    "PostgresStore",
    "Reading",
    "ReadingsMirror",
    "RetentionPolicy",
    "RetentionReport",
    "Scalar",
    "SeriesAggregates",
    "TimeRange",
    "ValueRange",
    "ValueType",
    "day_noise",
    "distance_m",
    "embedded_postgres",
    "energetic_mean_db",
    "energy_kwh",
    "filter_matches",
    "merge",
    "noise_indicators",
    "open_read_store",
    "open_store",
    "parse_geometry",
    "per_series",
    "postmaster_pid",
    "prepare_session",
    "rebucket",
    "resolve_dsn",
    "retention_policy",
    "set_watches",
    "start_embedded_postgres",
    "summarise",
    "take_changes",
    "time_weighted_occupancy",
]
