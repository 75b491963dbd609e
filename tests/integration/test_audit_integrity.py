"""The audit log against its own application: a role that is not the table's owner, a
hash chain that `ciudad audit verify` walks, the upgrade of a table made before both.

Issue 16, item 9: the application's role owned ``ciudad_audit``, so it could disable the
append-only triggers and erase rows. Here the application logs in as a non-superuser
role that owns every other table, as it would in production (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from ciudad.cli import main
from ciudad.database import platform_migrations
from support.store import Database
from support.store.audit import AuditLog
from support.store.audit_schema import set_up_audit_table
from tests.helpers.api_client import open_api
from tests.helpers.databases import create_database, opened_database

pytestmark = pytest.mark.integration
LEON = {"NGSILD-Tenant": "leon"}
# What support/store/audit.py created before the hash chain and the owner role (an upgrade).
OLD_AUDIT_DDL = """
CREATE TABLE ciudad_audit (
    id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), tenant text,
    actor text NOT NULL, action text NOT NULL, target text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE FUNCTION ciudad_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'ciudad_audit is append-only'; END $$;
CREATE TRIGGER ciudad_audit_no_change BEFORE UPDATE OR DELETE ON ciudad_audit
    FOR EACH ROW EXECUTE FUNCTION ciudad_audit_append_only();
"""


@pytest.fixture
def app_role(database_url: str) -> Iterator[str]:
    """A login role that is not a superuser and may create tables, as the recipe makes it."""
    role = f"ciudad_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(role)))
    yield role
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
async def audit_db(database_url: str) -> AsyncIterator[Database]:
    async with opened_database(database_url) as db:
        yield db


def owner_of(database_url: str, table: str) -> str:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = %s", (table,))
        return str(row.fetchone()[0])  # type: ignore[index]


async def ciudad(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def add_group(http: Any, apikey: str) -> None:
    """An administrative action through the API: AuditLog.record as the API does it."""
    made = await http.post(
        "/ciudad/v1/service-groups", headers=LEON, json={"apikey": apikey, "tenant": "leon"}
    )
    assert made.status_code == 201, made.text


def chain_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "support.store.audit_schema"]


ATTACKS = [
    "ALTER TABLE ciudad_audit DISABLE TRIGGER ALL",
    "DELETE FROM ciudad_audit",
    "UPDATE ciudad_audit SET actor = 'someone else'",
    "TRUNCATE ciudad_audit",
    "DROP TABLE ciudad_audit",
    "ALTER TABLE ciudad_audit OWNER TO CURRENT_USER",
    "SET session_replication_role = replica",
    "UPDATE ciudad_audit_head SET hash = '\\x00'",
    "CREATE OR REPLACE FUNCTION ciudad_audit_hash(bytea, bigint, timestamptz, text, text, "
    "text, text, jsonb) RETURNS bytea LANGUAGE sql AS $$ SELECT '\\x00'::bytea $$",
]


def attack(app_url: str) -> None:
    """Each way the application's role could erase or rewrite the log is refused."""
    with psycopg.connect(app_url, autocommit=True) as conn:
        for statement in ATTACKS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # A temporary head row would shadow the real one for a careless SECURITY DEFINER
        # function, and the id and hash are the caller's to give: neither is taken.
        conn.execute("CREATE TEMP TABLE ciudad_audit_head (one bool, last_id bigint, hash bytea)")
        conn.execute("INSERT INTO ciudad_audit_head VALUES (true, 0, '\\x00')")
        conn.execute(
            "INSERT INTO ciudad_audit (id, actor, action, target, hash) "
            "VALUES (1, 'forger', 'x', 'y', '\\xdead')"
        )
        forged = conn.execute("SELECT id, hash FROM public.ciudad_audit WHERE actor = 'forger'")
        identifier, digest = forged.fetchone()  # type: ignore[misc]
        assert identifier > 1
        assert digest != b"\xde\xad"


async def test_the_application_role_cannot_erase_the_audit_log(
    database_url: str,
    app_role: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app_url = make_conninfo(database_url, user=app_role)
    caplog.set_level(logging.WARNING, logger="support.store.audit_schema")
    # As deployed before the fix: the application creates every table, the audit log too.
    async with open_api(app_url) as http:
        await add_group(http, "before-setup")
    assert owner_of(database_url, "ciudad_audit") == app_role
    assert "could disable its triggers" in chain_warnings(caplog)[0]

    monkeypatch.setenv("CIUDAD_DATABASE_URL", database_url)  # a superuser, once
    assert await ciudad("audit", "setup") == 0
    assert "owned by ciudad_audit_owner" in capsys.readouterr().out
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT ciudad_audit_writer TO {}").format(sql.Identifier(app_role)))

    caplog.clear()
    async with open_api(app_url) as http:
        await add_group(http, "after-setup")
        listed = (await http.get("/ciudad/v1/audit", headers=LEON)).json()
    assert [e["target"] for e in listed] == ["after-setup", "before-setup"]
    assert chain_warnings(caplog) == []
    assert owner_of(database_url, "ciudad_audit") == "ciudad_audit_owner"
    assert owner_of(database_url, "ciudad_devices") == app_role  # the rest stays the app's

    attack(app_url)
    monkeypatch.setenv("CIUDAD_DATABASE_URL", app_url)
    assert await ciudad("audit", "verify") == 0
    assert capsys.readouterr().out.startswith("3 entries, chain intact")
    # The application's role can still back everything up, the audit log included.
    assert await ciudad("backup", "--output", str(tmp_path / "app.dump")) == 0


TAMPERING = {
    "changed": ("UPDATE ciudad_audit SET actor = 'cli:nobody' WHERE id = 2", "at entry 2"),
    "removed": ("DELETE FROM ciudad_audit WHERE id = 2", "at entry 3"),
    "rehashed": (
        "UPDATE ciudad_audit SET actor = 'cli:nobody', hash = ciudad_audit_hash("
        "(SELECT hash FROM ciudad_audit WHERE id = 1), id, at, tenant, 'cli:nobody', action, "
        "target, detail) WHERE id = 2",
        "at entry 3",
    ),
    "last removed": ("DELETE FROM ciudad_audit WHERE id = 3", "head records entry 3"),
}


@pytest.mark.parametrize("how", list(TAMPERING))
async def test_a_superuser_tampering_is_named_by_audit_verify(
    how: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CIUDAD_DATABASE_URL", database_url)
    for apikey in ("a", "b", "c"):
        assert await ciudad("groups", "add", apikey, "leon") == 0
    assert await ciudad("audit", "verify") == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("3 entries, chain intact")
    change, named = TAMPERING[how]
    with psycopg.connect(database_url) as conn:  # one transaction: triggers back on at commit
        conn.execute("ALTER TABLE ciudad_audit DISABLE TRIGGER ALL")
        conn.execute(change)
        conn.execute("ALTER TABLE ciudad_audit ENABLE TRIGGER ALL")
    assert await ciudad("audit", "verify") == 1
    assert named in capsys.readouterr().err


async def test_a_table_from_before_the_chain_is_upgraded_in_id_order(
    database_url: str,
) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(OLD_AUDIT_DDL)
        for n in range(3):
            conn.execute(
                "INSERT INTO ciudad_audit (tenant, actor, action, target) VALUES "
                "('leon', 'cli:old', 'group.put', %s)",
                (f"g{n}",),
            )
    await asyncio.to_thread(platform_migrations().upgrade, database_url)  # `ciudad db upgrade`
    await asyncio.to_thread(set_up_audit_table, database_url)  # idempotent: nothing rehashed
    async with opened_database(database_url) as db:
        await chained_in_order(AuditLog(db))
    assert owner_of(database_url, "ciudad_audit") == "ciudad_audit_owner"


async def chained_in_order(log: AuditLog) -> None:
    report = await log.verify()
    assert (report.entries, report.problem) == (3, None)
    await log.record("leon", "cli:new", "group.put", "g3")
    assert [e.target for e in await log.entries("leon", 10)] == ["g3", "g2", "g1", "g0"]
    assert [e.id for e in await log.entries("leon", 10)] == [4, 3, 2, 1]
    after = await log.verify()
    assert (after.entries, after.problem) == (4, None)


async def test_concurrent_writers_make_one_chain(audit_db: Database) -> None:
    log = AuditLog(audit_db)
    await asyncio.gather(*(log.record("leon", "cli:x", "group.put", f"g{n}") for n in range(40)))
    report = await log.verify()
    assert (report.entries, report.problem, report.last_id) == (40, None, 40)


@pytest.mark.slow
async def test_a_restored_audit_log_keeps_its_chain(
    database_url: str,
    postgres_uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CIUDAD_DATABASE_URL", database_url)
    for apikey in ("a", "b"):
        assert await ciudad("groups", "add", apikey, "leon") == 0
    assert await ciudad("audit", "verify") == 0
    before = capsys.readouterr().out.splitlines()[-1]
    dump = tmp_path / "ciudad.dump"
    assert await ciudad("backup", "--output", str(dump)) == 0
    fresh = create_database(postgres_uri)
    monkeypatch.setenv("CIUDAD_DATABASE_URL", fresh)
    assert await ciudad("restore", str(dump)) == 0
    assert await ciudad("audit", "verify") == 0
    assert capsys.readouterr().out.splitlines()[-1] == before
    assert before.startswith("2 entries, chain intact")
    assert await ciudad("audit", "setup") == 0  # after a restore (docs/operations.md)
    assert owner_of(fresh, "ciudad_audit") == "ciudad_audit_owner"
    assert await ciudad("groups", "add", "c", "leon") == 0  # the chain goes on
    assert await ciudad("audit", "verify") == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("3 entries, chain intact")
