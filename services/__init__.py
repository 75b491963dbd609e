"""Smart services: one vertical per domain, over the interoperability/knowledge interfaces."""

from fastapi import APIRouter

from services import air_quality, lighting, noise, noise_day, service_levels
from services.noise import SensorLeq, leq_per_sensor


def service_routers() -> list[APIRouter]:
    """Every vertical's HTTP endpoints, mounted on the API by the composition root."""
    return [
        noise.router,
        noise_day.router,
        air_quality.router,
        lighting.router,
        service_levels.router,
    ]


__all__ = ["SensorLeq", "leq_per_sensor", "service_routers"]
