"""The embedded default database: a private PostgreSQL started from the pgserver wheel."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from support import ConfigurationError

log = logging.getLogger(__name__)


def start_embedded_postgres(directory: Path) -> str:
    """Starts (or reuses) a PostgreSQL server in ``directory``; returns its connection URI.

    The server listens on a unix socket inside the directory only, so nothing
    is exposed on the network.  It stays up while any process that asked for it
    is alive.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        try:
            from pgserver.postgres_server import get_server
        except ImportError as exc:  # pragma: no cover - pgserver is a declared dependency
            raise ConfigurationError("pgserver missing; set CIUDAD_DATABASE_URL") from exc
        server = get_server(str(directory.resolve()), cleanup_mode="stop")
    uri: str = server.get_uri()
    log.info("embedded PostgreSQL ready", extra={"directory": str(directory)})
    return uri
