"""The embedded default database: a private PostgreSQL started from the pgserver wheel."""

from __future__ import annotations

import json
import logging
import os
import signal
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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


def postmaster_pid(directory: Path) -> int | None:
    """The pid of the server running in ``directory``, if one is running."""
    try:
        pid = int((directory / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _live_handles(directory: Path) -> list[int]:
    """Processes still holding the server through pgserver, less dead ones (pruned)."""
    handles = directory / ".handle_pids.json"
    try:
        pids = [int(p) for p in json.loads(handles.read_text())]
    except (OSError, ValueError, TypeError):
        return []
    live = [p for p in pids if _alive(p)]
    if live != pids:
        handles.write_text(json.dumps(live))
    return live


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def embedded_postgres(directory: Path, stop_timeout_s: float = 30.0) -> Iterator[str]:
    """The embedded server for the length of a ``with``, stopped at its end unless in use.

    pgserver's own clean-up stops the server only when its list of client pids is
    down to the exiting process, and a process killed earlier stays on that list
    forever, leaving the server running for good. Here dead clients are pruned and
    the server is stopped on exit unless another live process still uses it.
    """
    _live_handles(directory)
    uri = start_embedded_postgres(directory)
    try:
        yield uri
    finally:
        others = [p for p in _live_handles(directory) if p != os.getpid()]
        pid = postmaster_pid(directory)
        if pid is not None and not others:
            _stop_postmaster(pid, stop_timeout_s)
            log.info("embedded PostgreSQL stopped", extra={"directory": str(directory)})


def _stop_postmaster(pid: int, timeout_s: float) -> None:
    # SIGINT is PostgreSQL's "fast" shutdown: sessions are ended, the data stay consistent.
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGQUIT)  # "immediate": recovery runs at the next start
