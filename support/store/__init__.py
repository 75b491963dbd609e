"""Storage shared by every layer: the one door to PostgreSQL (``Database``), the versioned
schema (``Migrations``) and the audit log. The only psycopg users of support."""

from pathlib import Path

from support.store.database import Connection, Database, SessionSetup, try_session_lock
from support.store.migrations import (
    Migrations,
    SchemaState,
    SchemaStatus,
    SchemaVersionError,
    run_sql,
    upgrade_connection,
)

# support's own tables (the audit log) and their revisions.
MIGRATIONS = Path(__file__).parent / "revisions"

__all__ = [
    "MIGRATIONS",
    "Connection",
    "Database",
    "Migrations",
    "SchemaState",
    "SchemaStatus",
    "SchemaVersionError",
    "SessionSetup",
    "run_sql",
    "try_session_lock",
    "upgrade_connection",
]
