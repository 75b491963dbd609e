"""Smart services: one vertical per domain, over the interoperability/knowledge interfaces."""

from collections.abc import Sequence

from fastapi import APIRouter

from interoperability import BackgroundJob
from services import (
    air_quality,
    dashboard,
    kpi,
    lighting,
    noise,
    noise_day,
    parking,
    service_levels,
)
from services.alert_routes import alert_evaluator, alert_router
from services.alert_rules import DEFAULT_RULES, AlertRule, load_rules
from services.noise import SensorLeq, leq_per_sensor
from support import Settings


def service_routers(rules: Sequence[AlertRule] = DEFAULT_RULES) -> list[APIRouter]:
    """Every vertical's HTTP endpoints and the dashboard, mounted by the composition root."""
    return [
        noise.router,
        noise_day.router,
        air_quality.router,
        parking.router,
        lighting.router,
        kpi.router,
        alert_router(rules),
        service_levels.router,
        dashboard.router,
    ]


def service_jobs(settings: Settings, rules: Sequence[AlertRule]) -> list[BackgroundJob]:
    """What the services run beside the API: the periodic alert evaluation."""
    if not settings.alert_interval_s:
        return []
    return [alert_evaluator(rules, settings.alert_interval_s)]


__all__ = [
    "AlertRule",
    "SensorLeq",
    "leq_per_sensor",
    "load_rules",
    "service_jobs",
    "service_routers",
]
