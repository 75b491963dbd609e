"""Smart services: one vertical per domain, over the interoperability/knowledge interfaces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter

from interoperability import BackgroundJob
from services.alerts.routes import alert_evaluator, alert_router
from services.alerts.rules import DEFAULT_RULES, AlertRule, load_rules
from services.board import dashboard, kpi, slo
from services.board.slo import Objectives, service_levels
from services.energy import lighting
from services.environment import air_quality, noise
from services.environment.noise import SensorLeq, leq_per_sensor
from services.environment.noise_day import (
    RD_1367_2007_TABLE_A,
    ObjectivesTable,
    load_objectives,
    noise_day_router,
)
from services.mobility import parking
from support import Settings


@dataclass(frozen=True, slots=True)
class ServiceTables:
    """What a city configures for its services: alert rules, noise quality objectives."""

    rules: Sequence[AlertRule] = DEFAULT_RULES
    noise_objectives: ObjectivesTable = field(default_factory=lambda: RD_1367_2007_TABLE_A)

    @classmethod
    def load(cls, settings: Settings) -> ServiceTables:
        """From the settings' files; ConfigurationError names a bad file."""
        return cls(
            load_rules(settings.alert_rules_file),
            load_objectives(settings.noise_objectives_file),
        )


def service_routers(tables: ServiceTables = ServiceTables()) -> list[APIRouter]:
    """Every vertical's HTTP endpoints and the dashboard, mounted by the composition root."""
    return [
        noise.router,
        noise_day_router(tables.noise_objectives),
        air_quality.router,
        parking.router,
        lighting.router,
        kpi.router,
        alert_router(tables.rules),
        slo.router,
        dashboard.router,
    ]


def service_jobs(settings: Settings, tables: ServiceTables) -> list[BackgroundJob]:
    """What the services run beside the API: the periodic alert evaluation."""
    if not settings.alert_interval_s:
        return []
    return [alert_evaluator(tables.rules, settings.alert_interval_s)]


__all__ = [
    "AlertRule",
    "Objectives",
    "SensorLeq",
    "ServiceTables",
    "leq_per_sensor",
    "service_jobs",
    "service_levels",
    "service_routers",
]
