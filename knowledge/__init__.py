"""Knowledge layer (conocimiento): current state, time series and aggregation."""

from acquisition import Batch, EntityRecord, Reading, ValueType
from knowledge.aggregation import energetic_mean_db
from knowledge.embedded import embedded_postgres, postmaster_pid, start_embedded_postgres
from knowledge.factory import open_store, resolve_dsn, retention_policy
from knowledge.partials import Partials, merge, per_series, rebucket, summarise
from knowledge.postgres import PostgresStore
from knowledge.retention import RetentionPolicy, RetentionReport
from knowledge.schema import Partitioning
from knowledge.views import (
    AttributeHistory,
    AttributeState,
    EntityState,
    ExportRow,
    KnowledgeStore,
    LatencyCounts,
    NumericSeries,
    SeriesAggregates,
    TimeRange,
)

# The write side takes the records acquisition produces; upper layers name them through here.
__all__ = [
    "AttributeHistory",
    "AttributeState",
    "Batch",
    "EntityRecord",
    "EntityState",
    "ExportRow",
    "KnowledgeStore",
    "LatencyCounts",
    "NumericSeries",
    "Partials",
    "Partitioning",
    "PostgresStore",
    "Reading",
    "RetentionPolicy",
    "RetentionReport",
    "SeriesAggregates",
    "TimeRange",
    "ValueType",
    "embedded_postgres",
    "energetic_mean_db",
    "merge",
    "open_store",
    "per_series",
    "postmaster_pid",
    "rebucket",
    "resolve_dsn",
    "retention_policy",
    "start_embedded_postgres",
    "summarise",
]
