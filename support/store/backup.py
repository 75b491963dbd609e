"""`ciudad backup` and `ciudad restore`: pg_dump/pg_restore of the platform's database.

The dump (custom format) holds everything ciudad keeps: entities, state,
observations with their partitions, roll-ups, the device registry, API keys
(digests), subscriptions with their queue, the audit log. The client tools
come from PATH when they are as new as the server, else from the pgserver
wheel the embedded database runs on (PostgreSQL 16).

The database password never reaches a command line (every local user can read
argv in ``ps``): the tools get it from a password file of their own, mode 0600
in a private temporary directory. Dumps are created mode 0600: they hold the
device registry, key digests and the audit log.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

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


def split_password(dsn: str) -> tuple[str, str | None]:
    """The connection string without its password, and the password (None: none given)."""
    params = conninfo_to_dict(dsn)
    password = params.pop("password", None)
    return make_conninfo("", **params), None if password is None else str(password)


def passfile_line(password: str) -> str:
    r"""A ``.pgpass`` line for any host, port, database and user (``\`` and ``:`` escaped)."""
    if "\n" in password or "\r" in password:
        raise ConfigurationError("a database password with a line break cannot be passed safely")
    return "*:*:*:*:" + password.replace("\\", "\\\\").replace(":", "\\:") + "\n"


def dump_command(tool: str, dsn: str, output: Path) -> list[str]:
    """pg_dump's argv: no password in it (see split_password)."""
    conninfo, _ = split_password(dsn)
    return [tool, "--format=custom", "--no-owner", f"--file={output}", f"--dbname={conninfo}"]


def restore_command(tool: str, dsn: str, dump: Path) -> list[str]:
    """pg_restore's argv: no password. Privileges are left out (they name roles the target
    cluster may lack); `ciudad audit setup` grants the audit table's again."""
    conninfo, _ = split_password(dsn)
    return [
        tool,
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={conninfo}",
        str(dump),
    ]


def _run(argv: list[str], what: str, password: str | None) -> None:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="ciudad-pg-") as private:  # mode 0700
        if password is not None:
            passfile = Path(private) / "pgpass"
            descriptor = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(passfile_line(password))
            env["PGPASSFILE"] = str(passfile)
            env.pop("PGPASSWORD", None)  # it would win over the file, as the DSN's did before
        # umask: whatever the tool creates is private too.
        done = subprocess.run(
            argv, capture_output=True, text=True, check=False, env=env, umask=0o077
        )
    if done.returncode != 0:
        raise ConfigurationError(f"{what} failed: {done.stderr.strip()[-800:]}")


def _private_file(path: Path) -> None:
    """Creates (or empties) ``path`` with mode 0600 before a tool writes into it: an existing
    file keeps its mode when truncated, so a world-readable one is tightened first."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def backup(dsn: str, output: Path) -> int:
    """Writes a custom-format dump, mode 0600; returns its size in bytes."""
    tool = client_tool("pg_dump", _server_major(dsn))
    output.parent.mkdir(parents=True, exist_ok=True)
    _private_file(output)
    _run(dump_command(tool, dsn, output), "pg_dump", split_password(dsn)[1])
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
    _run(restore_command(tool, dsn, dump), "pg_restore", split_password(dsn)[1])
