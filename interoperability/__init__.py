"""Interoperability layer: the NGSI-LD style HTTP API over the knowledge layer."""

from acquisition import Device
from interoperability.access import TenantDep
from interoperability.app import BackgroundJob, create_app
from interoperability.deps import (
    BadRequestError,
    EndTimeAtQuery,
    LdJsonDep,
    StoreDep,
    TimeAtQuery,
    check_time,
    checked_range,
)
from interoperability.ngsild import CORE_CONTEXT, render_entity, render_temporal
from interoperability.temporal_routes import TimeRel, time_range
from support.times import iso_utc

__all__ = [
    "CORE_CONTEXT",
    "BackgroundJob",
    "BadRequestError",
    "Device",
    "EndTimeAtQuery",
    "LdJsonDep",
    "StoreDep",
    "TenantDep",
    "TimeAtQuery",
    "TimeRel",
    "check_time",
    "checked_range",
    "create_app",
    "iso_utc",
    "render_entity",
    "render_temporal",
    "time_range",
]
