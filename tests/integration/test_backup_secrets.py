"""`ciudad backup` and `restore` against a PostgreSQL that demands a password.

Issue 16, item 10: pg_dump got the DSN, password included, on its command line (every
local user sees it in ``ps``), and the dump came out world-readable. The command lines
themselves are checked in tests/unit/test_backup_command.py; here the password has to
reach a server that refuses connections without it, and the dump has to be 0600.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from ciudad.cli import main
from tests.helpers.postgres import PrivatePostgres
from tests.helpers.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROLE = "ciudad_pw"
PASSWORD = "s3cr:et\\pw"  # the password file escapes both


def refuses_without_password(uri: str) -> bool:
    try:
        psycopg.connect(make_conninfo(uri, user=ROLE, dbname="secured")).close()
    except psycopg.OperationalError as exc:
        return "password" in str(exc)
    return False


@pytest.fixture
def secured(private_postgres: PrivatePostgres) -> str:
    """A database whose owner must log in with a password (scram); its DSN, password in."""
    uri = private_postgres.uri
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("SET password_encryption = 'scram-sha-256'")
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(ROLE), sql.Literal(PASSWORD)))  # fmt: skip
        for name in ("secured", "restored"):
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(ROLE)))  # fmt: skip
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])  # type: ignore[index]
        hba.write_text(f"local all {ROLE} scram-sha-256\n" + hba.read_text())
        conn.execute("SELECT pg_reload_conf()")
    eventually(lambda: refuses_without_password(uri), what="the server to ask for passwords")
    dsn = make_conninfo(uri, user=ROLE, password=PASSWORD, dbname="secured")
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    return dsn


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_backup_and_restore_with_a_password_write_a_private_dump(
    secured: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIUDAD_DATABASE_URL", secured)
    fresh, reused = tmp_path / "new.dump", tmp_path / "old.dump"
    reused.write_text("an older, world-readable dump")
    reused.chmod(0o644)
    with umask(0o022):  # what most shells have: pg_dump alone would write 0644
        for dump in (fresh, reused):
            assert main(["backup", "--output", str(dump)]) == 0
            assert stat.S_IMODE(dump.stat().st_mode) == 0o600, dump
    monkeypatch.setenv("CIUDAD_DATABASE_URL", secured.replace("dbname=secured", "dbname=restored"))
    assert main(["restore", str(reused)]) == 0
    with psycopg.connect(secured.replace("dbname=secured", "dbname=restored")) as conn:
        assert conn.execute("SELECT n FROM kept").fetchall() == [(42,)]
