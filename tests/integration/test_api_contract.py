"""schemathesis against the running API (uvicorn on a loopback port, real PostgreSQL):
whatever the OpenAPI document allows a client to send, the API never answers 5xx."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from psycopg.conninfo import make_conninfo
from schemathesis.checks import not_a_server_error

from ciudad.database import open_store_at, platform_database
from interoperability import create_app
from services import service_routers
from support import Settings
from support.net import free_port
from tests.helpers.batches import _noise_batch

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def _fill(dsn: str) -> None:
    store = await open_store_at(dsn, max_size=1)
    try:
        await store.write_batch(_noise_batch("leon", "n1", [60.0, 70.0, 60.0]))
    finally:
        await store.close()


@pytest.fixture(scope="module")
def api_url(postgres_uri: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = make_conninfo(postgres_uri, dbname=name)
    asyncio.run(_fill(dsn))
    port = free_port()
    # No notifier: generated subscriptions name endpoints off this machine.
    app_settings = Settings(  # type: ignore[call-arg]
        database_url=dsn,
        default_tenant="leon",
        api_port=port,
        api_auth="off",
        notifier_enabled=False,
    )
    app = create_app(app_settings, platform_database, routers=service_routers())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("the API did not start")
            time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(timeout=30)
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def api_schema(api_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{api_url}/openapi.json")


def test_no_request_the_schema_allows_gets_a_server_error(
    api_schema: schemathesis.BaseSchema,
) -> None:
    # schemathesis' pytest plugin does not load under pytest 9: drive its strategies directly.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()
