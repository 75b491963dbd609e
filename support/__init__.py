"""Support layer (soporte): settings, logging, errors; importable by every layer."""

from support.errors import (
    AlreadyExistsError,
    CiudadError,
    ConfigurationError,
    InvalidQueryError,
    NotFoundError,
    PayloadError,
    StoreUnavailableError,
)
from support.logging import configure_logging
from support.settings import LEON_LATITUDE, LEON_LONGITUDE, Settings

__all__ = [
    "LEON_LATITUDE",
    "LEON_LONGITUDE",
    "AlreadyExistsError",
    "CiudadError",
    "ConfigurationError",
    "InvalidQueryError",
    "NotFoundError",
    "PayloadError",
    "Settings",
    "StoreUnavailableError",
    "configure_logging",
]
