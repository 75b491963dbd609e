"""The versioned schema: each owner of tables keeps its revisions, Alembic applies them.

Each layer that owns tables keeps its revisions in its storage subpackage
(``<layer>/.../revisions/``), on a branch of its own named after the layer,
so a layer's tables change without touching another's history. The database
records the head of every branch in ``alembic_version``.

What a database can be, compared with the revisions this code knows:

* empty: no ciudad table at all; a process may create the schema (a first start);
* unversioned: ciudad tables from before versioned migrations (main up to 97d1110);
* behind: revisions to apply; ahead: revisions this code does not know;
* current.

Only ``ciudad db upgrade`` changes a schema that exists; processes refuse to start on
anything but a current (or empty) database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.pool import NullPool

from support.errors import ConfigurationError, StoreUnavailableError

log = logging.getLogger(__name__)

# One lock for every schema change: processes starting together on an empty database,
# or an upgrade while another runs, would otherwise race on the catalogue.
SCHEMA_LOCK = 178104
UPGRADE_COMMAND = "ciudad db upgrade"


class SchemaVersionError(ConfigurationError):
    """The database's schema is not the one this code was written for."""


class SchemaState(StrEnum):
    EMPTY = "empty"
    UNVERSIONED = "unversioned"
    BEHIND = "behind"
    CURRENT = "current"
    AHEAD = "ahead"


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database's schema stands against the revisions this code knows."""

    state: SchemaState
    applied: tuple[str, ...]  # the branch heads recorded in the database
    heads: tuple[str, ...]  # the branch heads this code knows
    pending: tuple[str, ...]  # what an upgrade applies, in order
    unknown: tuple[str, ...]  # recorded revisions this code does not know

    def refusal(self) -> str | None:
        """Why a process may not start on this database, naming what to do; None if it may."""
        if self.state is SchemaState.UNVERSIONED:
            return (
                "the database holds ciudad tables from before versioned migrations: back it up "
                f"(ciudad backup) and run `{UPGRADE_COMMAND}`"
            )
        if self.state is SchemaState.BEHIND:
            return (
                f"the database schema is behind this ciudad ({len(self.pending)} migration(s) "
                f"pending: {', '.join(self.pending)}): run `{UPGRADE_COMMAND}`"
            )
        if self.state is SchemaState.AHEAD:
            return (
                "the database schema is newer than this ciudad (revisions unknown here: "
                f"{', '.join(self.unknown)}): run the ciudad release that upgraded it, or "
                "restore a backup taken before (`ciudad db status` shows both sides)"
            )
        return None


def _down_revisions(script: Script) -> tuple[str, ...]:
    down = script.down_revision
    if down is None:
        return ()
    return (down,) if isinstance(down, str) else tuple(down)


@dataclass(frozen=True, slots=True)
class Migrations:
    """The revision folders of every owner of tables in one database."""

    locations: tuple[Path, ...]

    def scripts(self) -> ScriptDirectory:
        return ScriptDirectory(
            self.locations[0], version_locations=[str(p) for p in self.locations]
        )

    def status(self, dsn: str) -> SchemaStatus:
        with _engine(dsn).connect() as conn:
            return self._status(conn)

    def upgrade(self, dsn: str, only_if_empty: bool = False) -> tuple[str, ...]:
        """Applies every pending revision in one transaction; returns them.

        ``only_if_empty`` (a process's first start) creates the schema of an empty
        database and refuses anything else that is not current."""
        with _engine(dsn).begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
            status = self._status(conn)  # again, under the lock
            if status.state is SchemaState.AHEAD:
                raise SchemaVersionError(status.refusal())
            if only_if_empty and status.state is not SchemaState.EMPTY:
                if (why := status.refusal()) is not None:
                    raise SchemaVersionError(why)
                return ()
            if status.pending:
                self._run(conn, status.pending)
            return status.pending

    def ensure_current(self, dsn: str) -> None:
        """Creates the schema of an empty database; SchemaVersionError unless current."""
        status = self.status(dsn)
        if status.state is SchemaState.EMPTY:
            applied = self.upgrade(dsn, only_if_empty=True)
            if applied:
                log.info("database schema created", extra={"revisions": list(applied)})
            return
        if (why := status.refusal()) is not None:
            raise SchemaVersionError(why)

    def _status(self, conn: sqlalchemy.Connection) -> SchemaStatus:
        scripts = self.scripts()
        applied = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
        heads = tuple(sorted(scripts.get_heads()))
        known = {s.revision: s for s in scripts.walk_revisions()}
        unknown = tuple(r for r in applied if r not in known)
        done = _closure(applied, known)
        pending = tuple(reversed([r for r in known if r not in done]))
        if unknown:
            state = SchemaState.AHEAD
        elif not applied:
            state = SchemaState.UNVERSIONED if _has_tables(conn) else SchemaState.EMPTY
        else:
            state = SchemaState.BEHIND if pending else SchemaState.CURRENT
        return SchemaStatus(state, applied, heads, pending, unknown)

    def _run(self, conn: sqlalchemy.Connection, pending: tuple[str, ...]) -> None:
        scripts = self.scripts()

        def upgrade(heads: Any, context: MigrationContext) -> Any:
            return scripts._upgrade_revs("heads", heads)  # what `alembic upgrade heads` runs

        with EnvironmentContext(Config(), scripts, fn=upgrade, destination_rev="heads") as env:
            env.configure(connection=conn, target_metadata=None)
            env.run_migrations()
        log.info("database schema upgraded", extra={"revisions": list(pending)})


def _closure(applied: Iterable[str], known: dict[str, Script]) -> set[str]:
    """The applied revisions and everything below them."""
    done: set[str] = set()
    todo = [r for r in applied if r in known]
    while todo:
        revision = todo.pop()
        if revision not in done:
            done.add(revision)
            todo.extend(_down_revisions(known[revision]))
    return done


def _has_tables(conn: sqlalchemy.Connection) -> bool:
    found = conn.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename LIKE 'ciudad\\_%%')"
    ).scalar()
    return bool(found)


def _engine(dsn: str) -> sqlalchemy.Engine:
    """One connection for the run, made by psycopg from the libpq DSN as given (multi-host
    URLs and unix sockets included)."""

    def connect() -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(dsn)
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"PostgreSQL not reachable: {exc}") from exc

    return sqlalchemy.create_engine("postgresql+psycopg://", creator=connect, poolclass=NullPool)


def upgrade_connection() -> psycopg.Connection[Any]:
    """Inside a revision: the psycopg connection the upgrade runs on, in its transaction.
    Revisions send their SQL through it as written (no bind-parameter parsing)."""
    from alembic import op

    driver = op.get_bind().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def run_sql(*statements: str) -> None:
    """Inside a revision: runs each SQL text (several statements each, if need be)."""
    conn = upgrade_connection()
    for statement in statements:
        conn.execute(statement.encode())
