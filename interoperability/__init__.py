"""Interoperability layer: the NGSI-LD style HTTP API over the knowledge layer."""

from interoperability.api_state import ApiState
from interoperability.app import BackgroundJob, create_app
from interoperability.auth.access import TenantDep
from interoperability.deps import (
    BadRequestError,
    DatabaseDep,
    EndTimeAtQuery,
    LdJsonDep,
    ReaderDep,
    StoreDep,
    TimeAtQuery,
    check_time,
    checked_range,
    get_settings,
)
from interoperability.devices.commands_routes import CommandsDep
from interoperability.devices.routes import RegistryDep
from interoperability.ngsild import CORE_CONTEXT, render_entity, render_temporal
from interoperability.store import MIGRATIONS
from interoperability.store.api_keys import ApiKeyStore, Scope
from interoperability.store.api_stats import api_counts
from interoperability.temporal.read_routes import TimeRel, time_range

__all__ = [
    "CORE_CONTEXT",
    "MIGRATIONS",
    "ApiKeyStore",
    "ApiState",
    "BackgroundJob",
    "BadRequestError",
    "CommandsDep",
    "DatabaseDep",
    "EndTimeAtQuery",
    "LdJsonDep",
    "ReaderDep",
    "RegistryDep",
    "Scope",
    "StoreDep",
    "TenantDep",
    "TimeAtQuery",
    "TimeRel",
    "api_counts",
    "check_time",
    "checked_range",
    "create_app",
    "get_settings",
    "render_entity",
    "render_temporal",
    "time_range",
]
