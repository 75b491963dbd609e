"""Knowledge layer (conocimiento): current state, time series and aggregation."""

from knowledge.aggregation import energetic_mean_db
from knowledge.embedded import start_embedded_postgres
from knowledge.factory import open_store, resolve_dsn
from knowledge.postgres import PostgresStore
from knowledge.schema import Partitioning
from knowledge.views import (
    AttributeHistory,
    AttributeState,
    EntityState,
    KnowledgeStore,
    NumericSeries,
    TimeRange,
)

__all__ = [
    "AttributeHistory",
    "AttributeState",
    "EntityState",
    "KnowledgeStore",
    "NumericSeries",
    "Partitioning",
    "PostgresStore",
    "TimeRange",
    "energetic_mean_db",
    "open_store",
    "resolve_dsn",
    "start_embedded_postgres",
]
