"""`ciudad backup` and `ciudad restore`: pg_dump/pg_restore of the platform's database.

The dump (custom format) holds everything ciudad keeps: entities, state,
observations with their partitions, roll-ups, the device registry, API keys
(digests), subscriptions with their queue, the audit log. The client tools
come from PATH when they are as new as the server, else from the pgserver
wheel the embedded database runs on (PostgreSQL 16).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import psycopg

from support import ConfigurationError

_BUNDLED_BIN = "pginstall/bin"


def _major(tool: str) -> int | None:
    try:
        printed = subprocess.run(
            [tool, "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", printed)
    return int(match.group(1)) if match else None


def client_tool(name: str, server_major: int) -> str:
    """The path of pg_dump/pg_restore able to talk to a server of ``server_major``."""
    candidates = []
    if found := shutil.which(name):
        candidates.append(found)
    try:
        import pgserver

        candidates.append(str(Path(pgserver.__file__).parent / _BUNDLED_BIN / name))
    except ImportError:
        pass
    for tool in candidates:
        major = _major(tool)
        if major is not None and major >= server_major:
            return tool
    raise ConfigurationError(
        f"no {name} of version {server_major} or newer: install the PostgreSQL {server_major} "
        "client tools (Debian: postgresql-client)"
    )


def _server_major(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.info.server_version // 10_000


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigurationError(f"{what} failed: {done.stderr.strip()[-800:]}")


def backup(dsn: str, output: Path) -> int:
    """Writes a custom-format dump; returns its size in bytes."""
    tool = client_tool("pg_dump", _server_major(dsn))
    output.parent.mkdir(parents=True, exist_ok=True)
    _run([tool, "--format=custom", "--no-owner", f"--file={output}", f"--dbname={dsn}"], "pg_dump")
    return output.stat().st_size


def restore(dsn: str, dump: Path) -> None:
    """Restores a dump into an empty database (refuses one that holds ciudad tables)."""
    if not dump.is_file():
        raise ConfigurationError(f"no dump file {dump}")
    with psycopg.connect(dsn) as conn:
        found = conn.execute("SELECT to_regclass('ciudad_entities') IS NOT NULL").fetchone()
    if found and found[0]:
        raise ConfigurationError(
            "the target database already holds ciudad tables: restore into a new, empty "
            "database (createdb) and point CIUDAD_DATABASE_URL at it"
        )
    tool = client_tool("pg_restore", _server_major(dsn))
    _run(
        [
            tool,
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={dsn}",
            str(dump),
        ],
        "pg_restore",
    )
