"""The pg_dump/pg_restore command lines `ciudad backup` and `restore` build: no password.

Issue 16, item 10: the whole DSN, password included, went on pg_dump's command line,
which every local user can read with ``ps``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from support import ConfigurationError
from support.store.backup import dump_command, passfile_line, restore_command, split_password

SECRET = "s3cr:et\\pw"  # a colon and a backslash: the password file format escapes both
DSNS = [
    "postgresql://ciudad:s3cr%3Aet%5Cpw@db.example:5433/ciudad?sslmode=require",
    "host=db.example port=5433 dbname=ciudad user=ciudad password='s3cr:et\\\\pw' sslmode=require",
]


@pytest.mark.parametrize("dsn", DSNS)
def test_no_password_reaches_the_command_lines(dsn: str) -> None:
    for argv in (
        dump_command("/usr/bin/pg_dump", dsn, Path("/backups/c.dump")),
        restore_command("/usr/bin/pg_restore", dsn, Path("/backups/c.dump")),
    ):
        assert not any("s3cr" in arg or "password" in arg for arg in argv), argv
        (dbname,) = [arg.removeprefix("--dbname=") for arg in argv if arg.startswith("--dbname")]
        assert conninfo_to_dict(dbname) == {
            "host": "db.example",
            "port": "5433",
            "dbname": "ciudad",
            "user": "ciudad",
            "sslmode": "require",
        }
    assert split_password(dsn)[1] == SECRET


def test_the_password_file_line_escapes_what_the_format_requires() -> None:
    assert passfile_line(SECRET) == "*:*:*:*:s3cr\\:et\\\\pw\n"
    with pytest.raises(ConfigurationError, match="line break"):
        passfile_line("two\nlines")


def test_a_dsn_without_password_needs_no_file() -> None:
    assert split_password("postgresql://postgres@/postgres?host=/tmp/pg")[1] is None
