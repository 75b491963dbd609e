"""The platform's exception hierarchy.

    CiudadError                  base of everything the platform raises on purpose
    ├── ConfigurationError       settings or provisioning files that cannot be used
    ├── PayloadError             device input that cannot be accepted (dead-lettered)
    │   (reason: a short machine-readable code; detail: text for a human)
    ├── StoreUnavailableError    the knowledge store cannot be reached right now
    └── NotFoundError            a requested entity or resource does not exist

Layers raise these (or subclasses of them) instead of returning error codes.
"""

from __future__ import annotations


class CiudadError(Exception):
    """Base class for errors raised deliberately by ciudad."""


class ConfigurationError(CiudadError):
    """A setting, file or provisioning entry is invalid."""


class PayloadError(CiudadError):
    """A device payload was rejected; ``reason`` is a stable short code used as a counter key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class StoreUnavailableError(CiudadError):
    """The knowledge store cannot be reached; the caller should retry later."""


class NotFoundError(CiudadError):
    """The requested entity or resource does not exist."""


class AlreadyExistsError(CiudadError):
    """The entity or resource to create exists already."""


class InvalidQueryError(CiudadError):
    """A query the store cannot run as asked (say, a regular expression it rejects)."""
