"""The versioned schema: a database made by main before migrations is refused, then
upgraded with its data intact; behind and ahead are refused with the command to run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from acquisition import DeviceRegistry
from ciudad.database import open_database, platform_migrations
from interoperability import ApiKeyStore, api_counts
from support.store import SchemaState, SchemaVersionError
from support.store.audit import AuditLog
from support.store.backup import client_tool
from tests.helpers.api_client import open_api
from tests.helpers.databases import create_database, opened_database

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
# Made by main at 97d1110 (the last schema without versions): every table, with rows in
# each (a noise sensor's 30 readings, three devices, a command, a key, a subscription,
# an audit entry, request counts, a dead letter). tests/data/README.md says how.
BEFORE_MIGRATIONS = REPO / "tests/data/schema_main_97d1110.sql"
LEON = {"NGSILD-Tenant": "leon"}
NOISE = "urn:ngsi-ld:NoiseLevelObserved:fix-1"
# The catalogue as a user of the tables sees it: columns, defaults, indexes, constraints.
CATALOGUE = """
SELECT 'column', c.table_name, c.column_name || ' ' || c.data_type || ' ' || c.is_nullable
       || ' ' || coalesce(c.column_default, '') || ' ' || coalesce(c.generation_expression, '')
FROM information_schema.columns c
WHERE c.table_schema = 'public' AND c.table_name LIKE 'ciudad%%'
  AND c.table_name !~ '_p[0-9]{8}$'
UNION ALL
SELECT 'index', tablename, indexdef FROM pg_indexes
WHERE schemaname = 'public' AND tablename LIKE 'ciudad%%' AND tablename !~ '_p[0-9]{8}$'
UNION ALL
SELECT 'constraint', conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text !~ '_p[0-9]{8}$'
UNION ALL
SELECT 'trigger', tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1, 2, 3
"""


def load_before_migrations(database_url: str) -> None:
    psql = client_tool("psql", 16)
    subprocess.run(
        [psql, "--quiet", "--set=ON_ERROR_STOP=1", f"--dbname={database_url}",
         f"--file={BEFORE_MIGRATIONS}"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip


def catalogue(database_url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(database_url) as conn:
        return [tuple(row) for row in conn.execute(CATALOGUE).fetchall()]


def ciudad(*argv: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it."""
    env = os.environ | {"CIUDAD_DATABASE_URL": database_url, "CIUDAD_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "ciudad", *argv],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_an_empty_database_gets_the_schema_at_first_start(database_url: str) -> None:
    # Two processes starting together on it: one creates, the other finds it current.
    opened = await asyncio.gather(open_database(database_url), open_database(database_url))
    for db in opened:
        await db.close()
    status = platform_migrations().status(database_url)
    assert status.state is SchemaState.CURRENT
    assert status.applied == status.heads


@pytest.mark.slow
async def test_a_database_from_before_migrations_is_refused_then_upgraded_with_its_data(
    database_url: str, postgres_uri: str
) -> None:
    load_before_migrations(database_url)
    with pytest.raises(SchemaVersionError, match="ciudad db upgrade"):
        await open_database(database_url)
    status = await asyncio.to_thread(ciudad, "db", "status", database_url=database_url)
    assert status.returncode == 1
    assert "schema: unversioned" in status.stdout

    upgrade = await asyncio.to_thread(ciudad, "db", "upgrade", database_url=database_url)
    assert upgrade.returncode == 0, upgrade.stderr
    revisions = sum(1 for _ in platform_migrations().scripts().walk_revisions())
    assert f"applied {revisions} migration(s)" in upgrade.stdout, "every revision, once"
    assert "schema: current" in upgrade.stdout
    again = await asyncio.to_thread(ciudad, "db", "upgrade", database_url=database_url)
    assert "applied 0 migration(s)" in again.stdout

    await _the_data_is_all_there(database_url)
    fresh = create_database(postgres_uri)
    await (await open_database(fresh)).close()
    assert catalogue(database_url) == catalogue(fresh)


async def _the_data_is_all_there(database_url: str) -> None:
    async with open_api(database_url) as http:
        entity = await http.get(f"/ngsi-ld/v1/entities/{NOISE}", headers=LEON)
        assert entity.status_code == 200, entity.text
        assert entity.json()["LAeq"]["value"] == 79.0  # the latest of 50..79
        history = await http.get(
            f"/ngsi-ld/v1/temporal/entities/{NOISE}",
            params={"options": "aggregatedValues", "aggrMethods": "totalCount,max",
                    "aggrPeriodDuration": "PT1H"},
            headers=LEON,
        )  # fmt: skip
        assert history.status_code == 200, history.text
        assert history.json()["LAeq"]["totalCount"][0][0] == 30
        subscription = await http.get(
            "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:fix", headers=LEON
        )
        assert subscription.status_code == 200, subscription.text
        letters = await http.get("/ciudad/v1/dead-letters", headers=LEON)
        assert [d["reason"] for d in letters.json()] == ["malformed"]
    async with opened_database(database_url) as db:
        devices = (await DeviceRegistry(db).provisioning()).devices()
        assert sorted(d.device_id for d in devices) == ["noise-001", "noise-002", "noise-003"]
        keys = await ApiKeyStore(db).list("leon")
        assert [(k.name, k.scope.label) for k in keys] == [("fixture", "write")]
        log = AuditLog(db)
        assert [e.actor for e in await log.entries("leon", 10)] == ["fixture"]
        assert (await log.verify()).problem is None
        day = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
        assert await api_counts(db, "leon", *day) == (5, 1)


async def test_a_database_behind_or_ahead_is_refused_naming_what_to_do(
    database_url: str,
) -> None:
    await (await open_database(database_url)).close()
    with psycopg.connect(database_url) as conn:  # as if the API's branch were new
        conn.execute("DELETE FROM alembic_version WHERE version_num = 'interoperability_0001'")
    gateway = await asyncio.to_thread(ciudad, "gateway", database_url=database_url)
    assert gateway.returncode == 1
    assert "behind" in gateway.stderr
    assert "pending: interoperability_0001): run `ciudad db upgrade`" in gateway.stderr
    upgrade = await asyncio.to_thread(ciudad, "db", "upgrade", database_url=database_url)
    assert "applied 1 migration(s): interoperability_0001" in upgrade.stdout

    with psycopg.connect(database_url) as conn:  # upgraded by a newer ciudad
        conn.execute("INSERT INTO alembic_version VALUES ('knowledge_9999')")
    api = await asyncio.to_thread(ciudad, "api", database_url=database_url)
    assert api.returncode == 1
    assert "newer than this ciudad (revisions unknown here: knowledge_9999)" in api.stderr
    status = await asyncio.to_thread(ciudad, "db", "status", database_url=database_url)
    assert (status.returncode, "schema: ahead" in status.stdout) == (1, True)
    refused = await asyncio.to_thread(ciudad, "db", "upgrade", database_url=database_url)
    assert refused.returncode == 1
    assert "newer than this ciudad" in refused.stderr


def test_every_revision_is_found_and_each_layer_has_one_branch() -> None:
    scripts = platform_migrations().scripts()
    labels = {label for s in scripts.walk_revisions() for label in s.branch_labels}
    assert labels == {"support", "acquisition", "knowledge", "interoperability"}
    assert len(scripts.get_heads()) == 4
